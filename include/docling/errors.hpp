// Errors thrown by the docling C++ API: one base class with a code, one subclass per kind,
// so a caller catches what it can handle and reports the rest by message.
//
// Takes: nothing. Gives: docling::Error and its subclasses.
#pragma once

#include "docling/export.hpp"

#include <stdexcept>
#include <string>

namespace docling {

enum class ErrorCode {
  InvalidArgument = 1,  // an option out of range, an unknown name, a malformed page list
  Model,                // the model folder is missing, incomplete or inconsistent
  Input,                // a document cannot be read at all (the message names the file)
  Output,               // a file cannot be written
  Cancelled,            // the caller's CancelToken stopped the call
  OutOfMemory,          // an allocation failed
  Internal,             // a bug: please report it with the message
};

DOCLING_API const char* to_string(ErrorCode code);  // "invalid argument", "model", ...

class DOCLING_API Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

struct DOCLING_API InvalidArgumentError : Error {
  explicit InvalidArgumentError(const std::string& m) : Error(ErrorCode::InvalidArgument, m) {}
};
struct DOCLING_API ModelError : Error {
  explicit ModelError(const std::string& m) : Error(ErrorCode::Model, m) {}
};
struct DOCLING_API InputError : Error {
  explicit InputError(const std::string& m) : Error(ErrorCode::Input, m) {}
};
struct DOCLING_API OutputError : Error {
  explicit OutputError(const std::string& m) : Error(ErrorCode::Output, m) {}
};
struct DOCLING_API CancelledError : Error {
  explicit CancelledError(const std::string& m) : Error(ErrorCode::Cancelled, m) {}
};

}  // namespace docling
