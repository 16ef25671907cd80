// docling-cpp's C++ API: everything a program needs. C and other languages: docling.h.
#pragma once

#include "docling/document.hpp"
#include "docling/engine.hpp"
#include "docling/errors.hpp"
