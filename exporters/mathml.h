// LaTeX → MathML for the simple formulas docling-core's HTML export renders with
// latex2mathml: letters, numbers, + - = and friends, ^ and _ scripts, {} groups.
// Anything else (commands, environments) is reported as unsupported, and the HTML
// exporter then falls back to upstream's <pre> form.
//
// Takes: LaTeX text. Gives: a <math> element string, or nullopt.
#pragma once

#include <optional>
#include <string>

namespace docling {

std::optional<std::string> latex_to_mathml(const std::string& latex, bool inline_mode);

}  // namespace docling
