// docling-cpp serve: /openapi.json, an OpenAPI 3.0 description of what this server
// implements (docling-serve's v1 paths and shapes, with docling-cpp's differences noted).
#include "cli.hpp"
#include "serve.hpp"

namespace dcli::serve {

namespace {

Json ref(const char* name) { return {{"$ref", std::string("#/components/schemas/") + name}}; }

Json json_response(const char* what, Json schema) {
  return {{"description", what}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

Json errors() {
  Json detail = json_response("error: {\"detail\": message or list}", ref("Error"));
  return {{"401", json_response("missing or wrong X-Api-Key", ref("Error"))},
          {"413", json_response("a file or the body is past the server's limits", ref("Error"))},
          {"422", json_response("an unknown option or a bad value (named)", ref("Error"))},
          {"503", json_response("queue full (Retry-After header) or shutting down", ref("Error"))}};
}

Json convert_answers() {
  Json ok = {{"description", "one document: the JSON below; several (or target zip): a zip of <name>.<ext> files"},
             {"content",
              {{"application/json", {{"schema", ref("ConvertDocumentResponse")}}},
               {"application/zip", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
  Json r = errors();
  r["200"] = ok;
  return r;
}

Json file_body(bool) {
  Json props = options_schema()["properties"];
  props["files"] = {{"type", "array"}, {"items", {{"type", "string"}, {"format", "binary"}}}};
  props["target_type"] = {{"type", "string"}, {"enum", {"inbody", "zip"}}};
  return {{"required", true},
          {"content",
           {{"multipart/form-data", {{"schema", {{"type", "object"}, {"required", {"files"}}, {"properties", props}}}}}}}};
}

// A chunk form: convert_<option>, chunking_<option>, include_converted_doc, target_type, files.
Json chunk_file_body(docling::Chunker c) {
  Json props = Json::object();
  const Json convert = options_schema(), chunking = chunk_options_schema(c);  // named: a loop over a temporary's member dangles
  for (auto& [k, v] : convert["properties"].items()) props["convert_" + k] = v;
  for (auto& [k, v] : chunking["properties"].items()) props["chunking_" + k] = v;
  props["files"] = {{"type", "array"}, {"items", {{"type", "string"}, {"format", "binary"}}}};
  props["include_converted_doc"] = {{"type", "boolean"}};
  props["target_type"] = {{"type", "string"}, {"enum", {"inbody"}}};
  return {{"required", true},
          {"content",
           {{"multipart/form-data", {{"schema", {{"type", "object"}, {"required", {"files"}}, {"properties", props}}}}}}}};
}

Json chunk_source_body(docling::Chunker c) {
  Json props = {{"convert_options", options_schema()},
                {"chunking_options", chunk_options_schema(c)},
                {"sources", {{"type", "array"}, {"items", ref("FileSource")}}},
                {"file_sources", {{"type", "array"}, {"items", ref("FileSource")}}},
                {"http_sources", {{"type", "array"}, {"description", "refused (400): no fetch allow-list is configured"}}},
                {"include_converted_doc", {{"type", "boolean"}}},
                {"target", {{"type", "object"}, {"properties", {{"kind", {{"type", "string"}, {"enum", {"inbody"}}}}}}}}};
  return {{"required", true},
          {"content",
           {{"application/json", {{"schema", {{"type", "object"}, {"additionalProperties", false}, {"properties", props}}}}}}}};
}

Json chunk_answers() {
  Json r = errors();
  r["200"] = json_response("the chunks of every document", ref("ChunkDocumentResponse"));
  return r;
}

Json source_body() {
  return {{"required", true}, {"content", {{"application/json", {{"schema", ref("ConvertDocumentsRequest")}}}}}};
}

Json task_path(const char* summary, Json answer) {
  Json id = {{"name", "task_id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
  Json params = Json::array({id});
  if (std::string(summary).find("status") != std::string::npos)
    params.push_back({{"name", "wait"}, {"in", "query"}, {"schema", {{"type", "number"}}},
                      {"description", "seconds to wait for the task to end"}});
  Json r = errors();
  r["200"] = std::move(answer);
  r["404"] = json_response("no such task, or not finished (result)", ref("Error"));
  return {{"get", {{"summary", summary}, {"parameters", params}, {"responses", r}}}};
}

Json schemas() {
  Json doc = {{"type", "object"},
              {"properties",
               {{"filename", {{"type", "string"}}},
                {"md_content", {{"type", "string"}, {"nullable", true}}},
                {"json_content", {{"type", "object"}, {"nullable", true}, {"description", "a DoclingDocument"}}},
                {"html_content", {{"type", "string"}, {"nullable", true}}},
                {"text_content", {{"type", "string"}, {"nullable", true}}},
                {"doctags_content", {{"type", "string"}, {"nullable", true}}}}}};
  Json status = {{"type", "string"}, {"enum", {"pending", "started", "success", "partial_success", "skipped", "failure"}}};
  Json error_item = {{"type", "object"},
                     {"properties",
                      {{"component_type", {{"type", "string"}}},
                       {"module_name", {{"type", "string"}}},
                       {"error_message", {{"type", "string"}}}}}};
  Json response = {{"type", "object"},
                   {"properties",
                    {{"document", ref("ExportDocumentResponse")},
                     {"status", status},
                     {"errors", {{"type", "array"}, {"items", error_item}}},
                     {"processing_time", {{"type", "number"}}},
                     {"timings", {{"type", "object"}}},
                     {"warnings",
                      {{"type", "array"},
                       {"items", {{"type", "string"}}},
                       {"description", "docling-cpp: options not applied, page warnings"}}}}}};
  Json file_source = {{"type", "object"},
                      {"required", {"base64_string", "filename"}},
                      {"properties",
                       {{"kind", {{"type", "string"}, {"enum", {"file"}}}},
                        {"base64_string", {{"type", "string"}}},
                        {"filename", {{"type", "string"}}}}}};
  Json request = {{"type", "object"},
                  {"additionalProperties", false},
                  {"properties",
                   {{"options", options_schema()},
                    {"sources", {{"type", "array"}, {"items", file_source}}},
                    {"file_sources", {{"type", "array"}, {"items", file_source}}},
                    {"http_sources",
                     {{"type", "array"}, {"description", "refused (400): no fetch allow-list is configured"}}},
                    {"target",
                     {{"type", "object"}, {"properties", {{"kind", {{"type", "string"}, {"enum", {"inbody", "zip"}}}}}}}}}}};
  Json task = {{"type", "object"},
               {"properties",
                {{"task_id", {{"type", "string"}}},
                 {"task_type", {{"type", "string"}}},
                 {"task_status", {{"type", "string"}, {"enum", {"pending", "started", "success", "failure"}}}},
                 {"task_position", {{"type", "integer"}, {"nullable", true}}},
                 {"task_meta", {{"type", "object"}}},
                 {"error_message", {{"type", "string"}, {"nullable", true}}}}}};
  Json error = {{"type", "object"}, {"properties", {{"detail", Json::object()}}}};
  Json nullable_strings = {{"type", "array"}, {"items", {{"type", "string"}}}, {"nullable", true}};
  Json chunk = {{"type", "object"},
                {"properties",
                 {{"filename", {{"type", "string"}}},
                  {"chunk_index", {{"type", "integer"}}},
                  {"text", {{"type", "string"}, {"description", "headings and text (contextualized)"}}},
                  {"raw_text", {{"type", "string"}, {"nullable", true}}},
                  {"num_tokens", {{"type", "integer"}, {"nullable", true}}},
                  {"headings", nullable_strings},
                  {"captions", nullable_strings},
                  {"doc_items", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                  {"page_numbers", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
                  {"metadata", {{"type", "object"}}}}}};
  Json export_result = {{"type", "object"},
                        {"properties",
                         {{"kind", {{"type", "string"}, {"enum", {"ExportResult"}}}},
                          {"content", ref("ExportDocumentResponse")},
                          {"status", status},
                          {"errors", {{"type", "array"}, {"items", error_item}}},
                          {"timings", {{"type", "object"}}}}}};
  Json chunk_response = {{"type", "object"},
                         {"properties",
                          {{"chunks", {{"type", "array"}, {"items", chunk}}},
                           {"documents", {{"type", "array"}, {"items", export_result}}},
                           {"processing_time", {{"type", "number"}}},
                           {"warnings", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
  return {{"ExportDocumentResponse", doc},     {"ConvertDocumentResponse", response},
          {"ConvertDocumentsRequest", request}, {"TaskStatusResponse", task},
          {"Error", error},                     {"ChunkDocumentResponse", chunk_response},
          {"FileSource", file_source}};
}

}  // namespace

std::string openapi_json(const Settings& s) {
  Json convert_async = errors();
  convert_async["200"] = json_response("the task, queued", ref("TaskStatusResponse"));
  Json paths = {
      {"/v1/convert/file", {{"post", {{"summary", "Convert uploaded files"}, {"requestBody", file_body(false)}, {"responses", convert_answers()}}}}},
      {"/v1/convert/source", {{"post", {{"summary", "Convert base64 sources"}, {"requestBody", source_body()}, {"responses", convert_answers()}}}}},
      {"/v1/convert/file/async", {{"post", {{"summary", "Queue uploaded files"}, {"requestBody", file_body(true)}, {"responses", convert_async}}}}},
      {"/v1/convert/source/async", {{"post", {{"summary", "Queue base64 sources"}, {"requestBody", source_body()}, {"responses", convert_async}}}}},
      {"/v1/status/poll/{task_id}", task_path("Task status", json_response("the task", ref("TaskStatusResponse")))},
      {"/v1/result/{task_id}", task_path("Task result", convert_answers()["200"])},
      {"/metrics", {{"get", {{"summary", "Engine and queue counters (Prometheus text)"}, {"responses", {{"200", {{"description", "text/plain"}}}}}}}}},
      {"/health", {{"get", {{"summary", "Health"}, {"responses", {{"200", json_response("ok", {{"type", "object"}})}}}}}}},
      {"/version", {{"get", {{"summary", "Versions"}, {"responses", {{"200", json_response("versions", {{"type", "object"}})}}}}}}},
  };
  for (docling::Chunker c : {docling::Chunker::Hybrid, docling::Chunker::Hierarchical}) {
    std::string base = std::string("/v1/chunk/") + (c == docling::Chunker::Hybrid ? "hybrid" : "hierarchical");
    std::string what = c == docling::Chunker::Hybrid ? "HybridChunker" : "HierarchicalChunker";
    paths[base + "/file"] = {{"post", {{"summary", "Convert and chunk uploaded files (" + what + ")"}, {"requestBody", chunk_file_body(c)}, {"responses", chunk_answers()}}}};
    paths[base + "/source"] = {{"post", {{"summary", "Convert and chunk base64 sources (" + what + ")"}, {"requestBody", chunk_source_body(c)}, {"responses", chunk_answers()}}}};
    paths[base + "/file/async"] = {{"post", {{"summary", "Queue chunking of uploaded files (" + what + ")"}, {"requestBody", chunk_file_body(c)}, {"responses", convert_async}}}};
    paths[base + "/source/async"] = {{"post", {{"summary", "Queue chunking of base64 sources (" + what + ")"}, {"requestBody", chunk_source_body(c)}, {"responses", convert_async}}}};
  }
  Json doc = {{"openapi", "3.0.3"},
              {"info",
               {{"title", "docling-cpp serve"},
                {"version", docling::version()},
                {"description",
                 "docling-serve v1 compatible API (docling-serve 1.x shapes) served by docling-cpp. Limits: " +
                     std::to_string(s.max_file_bytes >> 20) + " MiB per file, queue of " +
                     std::to_string(s.max_queue) + " tasks."}}},
              {"paths", paths},
              {"components", {{"schemas", schemas()}}}};
  if (!s.api_key.empty()) {
    doc["components"]["securitySchemes"] = {{"APIKeyHeader", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Api-Key"}}}};
    doc["security"] = Json::array({{{"APIKeyHeader", Json::array()}}});
  }
  return doc.dump(1);
}

}  // namespace dcli::serve
