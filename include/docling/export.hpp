// DOCLING_API marks what the shared library exports; everything else in it is hidden.
#pragma once

// DOCLING_HIDDEN keeps a class nested in an exported one out of the exports: a nested class takes
// its enclosing class's visibility, so `struct DOCLING_HIDDEN Engine::Impl { ... };` where it is defined.
#if defined(_WIN32)
#define DOCLING_API
#define DOCLING_HIDDEN
#else
#define DOCLING_API __attribute__((visibility("default")))
#define DOCLING_HIDDEN __attribute__((visibility("hidden")))
#endif
