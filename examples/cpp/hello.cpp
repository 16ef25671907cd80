// Converts one PDF and prints it as Markdown: hello FILE.pdf [MODEL_DIR]
#include <docling/docling.hpp>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: hello FILE.pdf [MODEL_DIR]\n";
    return 2;
  }
  try {
    docling::EngineOptions options = docling::engine_defaults();
    if (argc > 2) options.model_dir = argv[2];  // without a model: the PDF's text layer
    docling::Engine engine(options);
    docling::ConvertResult result = engine.convert(argv[1]);
    for (const docling::PageMessage& e : result.errors) std::cerr << e.message << "\n";
    std::cout << result.document.to_markdown();
    return result.status == docling::Status::Failure ? 1 : 0;
  } catch (const docling::Error& e) {  // e.g. a model folder that cannot be loaded
    std::cerr << e.what() << "\n";
    return 1;
  }
}
