// DOCLING_API marks what the shared library exports; everything else in it is hidden.
#pragma once

#if defined(_WIN32)
#define DOCLING_API
#else
#define DOCLING_API __attribute__((visibility("default")))
#endif
