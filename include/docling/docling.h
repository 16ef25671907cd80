/* docling-cpp's C API: PDF (or image, DocTags, DoclingDocument JSON) in, Markdown / HTML /
 * JSON / DocTags / text out, through opaque handles, for C and for other languages (Python
 * ctypes, Go cgo, Rust, C#). Plain C99; no C++ type crosses it; no C++ exception escapes it.
 *
 *   docling_engine_options eo;
 *   docling_engine_default_options(&eo, sizeof eo);
 *   eo.model_dir = "/models/granite-docling-258M";       // NULL: text-layer pipeline only
 *   docling_engine* engine = NULL;
 *   if (docling_engine_load(&eo, &engine) != DOCLING_OK) { puts(docling_last_error()); return 1; }
 *   char* md = NULL; size_t len = 0;
 *   if (docling_convert_file_to(engine, "paper.pdf", DOCLING_FORMAT_MARKDOWN, NULL, &md, &len) == DOCLING_OK)
 *     fwrite(md, 1, len, stdout);
 *   docling_free(md);
 *   docling_engine_free(engine);
 *
 * Errors. Every function that can fail returns a docling_status and clears or sets a message
 * that docling_last_error() returns on the same thread. Nothing prints, nothing exits.
 *
 * Threads. One engine may be used by any number of threads at once (its pages share the
 * model's decoder steps); a result or document handle may be read from several threads at
 * once but freed by one; a cancel token may be cancelled from any thread.
 *
 * Memory. Handles are freed by their own *_free function (NULL is accepted). Buffers the library
 * returns through `char** out` are malloc'ed by the library and freed with docling_free().
 * Strings returned as `const char*` belong to the handle they came from. A result or document
 * stays valid after the engine that made it is freed.
 *
 * Strings are UTF-8 and NUL-terminated unless a length is passed with them. */
#ifndef DOCLING_H
#define DOCLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DOCLING_C_API marks what the shared library exports (it is built with -fvisibility=hidden). */
#if defined(_WIN32)
#define DOCLING_C_API
#else
#define DOCLING_C_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------------------------ */

/* The values of docling::ErrorCode, plus OK. */
typedef enum docling_status {
  DOCLING_OK = 0,
  DOCLING_ERR_INVALID_ARGUMENT = 1, /* an option out of range, a NULL handle, an unknown name */
  DOCLING_ERR_MODEL = 2,            /* the model folder is missing, incomplete or inconsistent */
  DOCLING_ERR_INPUT = 3,            /* a document cannot be read (the message names the file) */
  DOCLING_ERR_OUTPUT = 4,           /* a file cannot be written */
  DOCLING_ERR_CANCELLED = 5,        /* the caller's cancel token stopped the call */
  DOCLING_ERR_OUT_OF_MEMORY = 6,    /* an allocation failed */
  DOCLING_ERR_INTERNAL = 7          /* a bug: please report it with the message */
} docling_status;

/* The library's version, "0.2.0". */
DOCLING_C_API const char* docling_version(void);
/* "ok", "invalid argument", "model", ...; "unknown" for a value not listed above. */
DOCLING_C_API const char* docling_status_string(docling_status status);
/* The message of the last call on this thread that returned a status: "" after DOCLING_OK
 * (except docling_convert_file_to after a partial conversion: the page errors). Valid until
 * the next such call on this thread. */
DOCLING_C_API const char* docling_last_error(void);
/* Frees a buffer the library returned through `char** out`. */
DOCLING_C_API void docling_free(void* buffer);

/* ---- options ------------------------------------------------------------------------------
 * Why struct_size: options gain fields between releases (the C++ options did, more than once).
 * The caller fills the struct with docling_*_default_options(&o, sizeof o), which writes the
 * library's defaults into as many bytes as the caller's struct has and records that size;
 * functions that take the struct read only struct_size bytes and use defaults for the rest.
 * So a program built against an older header keeps working with a newer library (and the
 * reverse, minus the fields the older library does not know), instead of reading past the end
 * of a smaller struct. Always start from the default function; do not zero-initialize.
 * Enum fields are int-sized (C enums on every supported ABI; ctypes: c_int). */

typedef enum docling_weights { DOCLING_WEIGHTS_BF16 = 0, DOCLING_WEIGHTS_INT8 = 1 } docling_weights;
typedef enum docling_kv_cache { DOCLING_KV_CACHE_F16 = 0, DOCLING_KV_CACHE_F32 = 1 } docling_kv_cache;
typedef enum docling_isa {
  DOCLING_ISA_BEST = 0,
  DOCLING_ISA_AVX512 = 1,
  DOCLING_ISA_AVX2 = 2,
  DOCLING_ISA_SCALAR = 3
} docling_isa;
/* Arithmetic of the vision encoder's and connector's products (not the decoder's): f32 exact;
 * bf16 rounds activations to bf16 (AVX512-BF16; elsewhere it runs as f32); int8 quantizes
 * weights per output channel and activations per token; auto: the fastest that met the
 * accuracy budget on this CPU class (f32 where unmeasured). */
typedef enum docling_vision_precision {
  DOCLING_VISION_PRECISION_AUTO = 0,
  DOCLING_VISION_PRECISION_F32 = 1,
  DOCLING_VISION_PRECISION_BF16 = 2,
  DOCLING_VISION_PRECISION_INT8 = 3
} docling_vision_precision;
/* Arithmetic of the decoder's products in decode steps: f32 exact; bf16 rounds activations
 * to bf16 (AVX512-BF16; elsewhere it runs as f32). */
typedef enum docling_decode_precision {
  DOCLING_DECODE_PRECISION_F32 = 0,
  DOCLING_DECODE_PRECISION_BF16 = 1
} docling_decode_precision;
typedef enum docling_log_level {
  DOCLING_LOG_DEBUG = 0,
  DOCLING_LOG_INFO = 1,
  DOCLING_LOG_WARNING = 2,
  DOCLING_LOG_ERROR = 3
} docling_log_level;
/* Called from any thread, never while a lock of the library is held. */
typedef void (*docling_log_callback)(docling_log_level level, const char* message, void* user_data);

typedef struct docling_engine_options {
  size_t struct_size;        /* sizeof as the caller compiled it (set by the default function) */
  const char* model_dir;     /* checkpoint folder; NULL or "" = no model (text pipeline only) */
  docling_weights weights;   /* int8: quantized at load (less memory, small accuracy cost) */
  docling_kv_cache kv_cache; /* f32: exact, twice the memory */
  int32_t threads;           /* compute threads for the model; 0 = all cores */
  int32_t batch_size;        /* pages decoded together (1..64) */
  int32_t pages_in_flight;   /* pages rendered and waiting or generating, engine-wide (1..256) */
  int32_t max_new_tokens;    /* upper bound of the per-conversion max_new_tokens */
  docling_isa max_isa;       /* highest instruction set the kernels may use (process-wide) */
  bool int8_activations;     /* AVX512-VNNI decode with 8-bit activations (int8 weights) */
  bool bf16_dot;             /* AVX512-BF16 products */
  docling_log_callback log;  /* optional */
  void* log_user_data;
  /* added in 0.2 (an older struct_size leaves the default, auto) */
  docling_vision_precision vision_precision; /* vision encoder + connector products */
  /* added in 0.2 (an older struct_size leaves NULL): folder where the decoder's kernel block
   * sizes are measured for this CPU on first use and kept; NULL or "" = the built-in table */
  const char* kernel_tuning_dir;
  docling_decode_precision decode_precision; /* added in 0.2 (an older struct_size leaves f32) */
  bool amx; /* added in 0.2 (an older struct_size leaves true): bf16 products and the f32 prefill on AMX tiles where present */
  /* added in 0.2 (an older struct_size leaves true): decode steps choose tokens through an int8
   * screen of the output head where the CPU has AVX512-VNNI or AVX-VNNI (the same tokens, log-probabilities
   * within 1e-2 of the full softmax's, 58 MB more memory) */
  bool screen_head;
} docling_engine_options;

typedef enum docling_pipeline {
  DOCLING_PIPELINE_DEFAULT = 0, /* vlm when the engine has a model, else text */
  DOCLING_PIPELINE_VLM = 1,     /* the model on every page; the text layer where a page fails */
  DOCLING_PIPELINE_TEXT = 2,    /* the PDF text layer only */
  DOCLING_PIPELINE_AUTO = 3     /* the text layer, and the model for pages without one */
} docling_pipeline;

typedef struct docling_cancel_token docling_cancel_token;
typedef struct docling_document docling_document;

/* A page as it finishes. Everything in it is valid during the callback only. */
typedef struct docling_page_info {
  int32_t page;                      /* 1-based, as in the source */
  bool from_model;                   /* false: the text layer */
  const docling_document* document;  /* that page alone (borrowed: do not free) */
  const char* doctags;               /* the model's output; "" for text-layer pages */
  const char* const* warnings;       /* n_warnings messages about this page */
  size_t n_warnings;
} docling_page_info;
/* Called on the thread that called convert, as pages finish. */
typedef void (*docling_page_callback)(const docling_page_info* page, void* user_data);

/* Where item and table-cell boxes have their origin (see BoxOrigin in engine.hpp). */
typedef enum docling_box_origin {
  DOCLING_BOX_ORIGIN_DEFAULT = 0,    /* as docling: text-layer pages bottom-left, model pages top-left */
  DOCLING_BOX_ORIGIN_TOP_LEFT = 1,
  DOCLING_BOX_ORIGIN_BOTTOM_LEFT = 2
} docling_box_origin;

typedef struct docling_convert_options {
  size_t struct_size;
  docling_pipeline pipeline;
  const char* pages;          /* "1-3,7", "5-"; NULL or "" = all */
  const char* password;       /* of an encrypted PDF; NULL = none */
  int32_t max_new_tokens;     /* per page */
  bool force_backend_text;    /* text items take the PDF's text inside the model's boxes */
  bool render_direct;         /* render at the model's input size */
  bool loop_guard;            /* stop a page that repeats itself (kept, with a warning) */
  bool page_images;           /* page images in the document (as docling's VLM pipeline) */
  bool speculate;             /* draft tokens from the text layer (never change the output) */
  uint64_t max_input_bytes;   /* a larger file or buffer is refused */
  int32_t max_side;           /* pixels per side of a rendered page */
  int64_t max_pixels;         /* pixels of a rendered page */
  const docling_cancel_token* cancel; /* optional; must outlive the call */
  docling_page_callback on_page;      /* optional */
  void* on_page_user_data;
  docling_box_origin box_origin;      /* added in 0.2; default DOCLING_BOX_ORIGIN_DEFAULT */
  uint64_t max_inflated_bytes;        /* added in 0.2: a PDF stream inflating past this refuses the
                                         file (0: no check); an older struct_size leaves 512 MiB */
} docling_convert_options;

typedef enum docling_format {
  DOCLING_FORMAT_MARKDOWN = 0,
  DOCLING_FORMAT_HTML = 1,
  DOCLING_FORMAT_JSON = 2, /* DoclingDocument JSON */
  DOCLING_FORMAT_DOCTAGS = 3,
  DOCLING_FORMAT_TEXT = 4,
  DOCLING_FORMAT_CHUNKS = 5 /* RAG chunks, one JSON object a line (see the chunk_* export options) */
} docling_format;

typedef enum docling_chunker {
  DOCLING_CHUNKER_HIERARCHICAL = 0, /* a chunk per paragraph, list, table, picture, with headings */
  DOCLING_CHUNKER_HYBRID = 1,       /* the same fitted to a token budget (needs chunk_tokenizer) */
  DOCLING_CHUNKER_PAGE = 2          /* one chunk per page */
} docling_chunker;

typedef enum docling_image_mode {
  DOCLING_IMAGE_PLACEHOLDER = 0, /* "<!-- image -->" where a picture stands */
  DOCLING_IMAGE_EMBEDDED = 1,    /* data: URIs */
  DOCLING_IMAGE_REFERENCED = 2   /* files beside the output: docling_document_save only */
} docling_image_mode;

typedef struct docling_export_options {
  size_t struct_size;
  docling_image_mode image_mode;
  const char* page_break_placeholder;   /* text between pages (Markdown, text); NULL = none */
  const int32_t* pages;                 /* only these pages (1-based); NULL / 0 = all */
  size_t n_pages;
  bool md_compact_tables;               /* Markdown tables without padding */
  bool doctags_minified;                /* DocTags without newlines between elements */
  const char* const* excluded_labels;   /* e.g. {"picture", "page_header"} */
  size_t n_excluded_labels;
  /* DOCLING_FORMAT_CHUNKS (fields added in 0.2; an older struct_size leaves their defaults) */
  docling_chunker chunker;              /* default DOCLING_CHUNKER_HYBRID */
  const char* chunk_tokenizer;          /* Hugging Face tokenizer folder or file; NULL = none */
  int32_t chunk_max_tokens;             /* 0 = the tokenizer's own limit */
} docling_export_options;

/* Fill `options` with the defaults; `struct_size` = sizeof(*options) as the caller knows it.
 * DOCLING_ERR_INVALID_ARGUMENT when options is NULL or struct_size is smaller than the first
 * release's struct. */
DOCLING_C_API docling_status docling_engine_default_options(docling_engine_options* options, size_t struct_size);
DOCLING_C_API docling_status docling_convert_default_options(docling_convert_options* options, size_t struct_size);
DOCLING_C_API docling_status docling_export_default_options(docling_export_options* options, size_t struct_size);

/* "md", "markdown", "html", "json", "doctags", "dt", "text", "txt", "chunks". */
DOCLING_C_API docling_status docling_parse_format(const char* name, docling_format* out);
/* "md", "html", "json", "doctags", "txt", "chunks.jsonl"; NULL for an unknown value. */
DOCLING_C_API const char* docling_format_extension(docling_format format);

/* ---- engine ------------------------------------------------------------------------------- */

typedef struct docling_engine docling_engine;

/* Loads the model when options->model_dir is set (NULL options = defaults, no model).
 * DOCLING_ERR_MODEL naming the file, DOCLING_ERR_INVALID_ARGUMENT for options out of range.
 * *out is NULL unless DOCLING_OK. */
DOCLING_C_API docling_status docling_engine_load(const docling_engine_options* options, docling_engine** out);
DOCLING_C_API void docling_engine_free(docling_engine* engine);
DOCLING_C_API bool docling_engine_has_model(const docling_engine* engine);
/* What the engine's model has done since it was loaded, all callers together (zeros without a
 * model); see docling::EngineStats. Added in 0.2. */
typedef struct docling_engine_stats {
  size_t struct_size;         /* set by the caller: sizeof(docling_engine_stats) as it was compiled */
  uint64_t decoder_steps;     /* decoder forwards */
  uint64_t decoded_tokens;    /* tokens generated */
  uint64_t decoder_rows;      /* rows through those forwards (decode, draft, prefill) */
  uint64_t pages_encoded;     /* page images through the vision encoder */
  uint64_t shared_steps;      /* steps that gave tokens to pages of two or more conversions */
  int32_t max_rows_in_a_step;
  int32_t max_pages_in_a_step;
  int32_t max_conversions_in_a_step;
} docling_engine_stats;
/* Fills *out (its first out->struct_size bytes). DOCLING_ERR_INVALID_ARGUMENT when engine or out
 * is NULL or out->struct_size is too small. Safe from any thread. */
DOCLING_C_API docling_status docling_engine_get_stats(const docling_engine* engine, docling_engine_stats* out);
/* Whether `dir` holds a checkpoint (config.json + model.safetensors). Finding one is the
 * caller's business: the library reads no environment variables. */
DOCLING_C_API bool docling_is_model_dir(const char* dir);

/* A flag set from any thread to stop conversions that were given it: pages not yet generated
 * are abandoned and the result is DOCLING_CONVERSION_CANCELLED with what was finished.
 * create returns NULL when out of memory. */
DOCLING_C_API docling_cancel_token* docling_cancel_token_create(void);
DOCLING_C_API void docling_cancel_token_cancel(docling_cancel_token* token);
DOCLING_C_API bool docling_cancel_token_is_cancelled(const docling_cancel_token* token);
DOCLING_C_API void docling_cancel_token_free(docling_cancel_token* token);

/* ---- conversion --------------------------------------------------------------------------- */

typedef struct docling_result docling_result;

typedef enum docling_conversion_status {
  DOCLING_CONVERSION_SUCCESS = 0,
  DOCLING_CONVERSION_PARTIAL = 1,   /* some pages failed; the errors say which */
  DOCLING_CONVERSION_FAILURE = 2,   /* nothing converted; the errors say why */
  DOCLING_CONVERSION_CANCELLED = 3
} docling_conversion_status;

/* Converts a PDF, PNG/JPEG, .doctags or DoclingDocument .json file (NULL options = defaults).
 * DOCLING_OK whenever a result was made, also when the conversion failed (a missing or broken
 * file): the result says how it went. Other statuses (invalid argument, out of memory) leave
 * *out NULL. */
DOCLING_C_API docling_status docling_convert_file(const docling_engine* engine, const char* path,
                                                  const docling_convert_options* options, docling_result** out);
/* The same from bytes in memory; `name` (may be NULL) names them in messages and gives the
 * document its name. The bytes are not kept after the call. */
DOCLING_C_API docling_status docling_convert_buffer(const docling_engine* engine, const void* data, size_t size,
                                                    const char* name, const docling_convert_options* options,
                                                    docling_result** out);
/* One call: convert a file and export it. DOCLING_OK for a successful or partial conversion
 * (partial: docling_last_error() holds the page errors); otherwise the conversion's error
 * (DOCLING_ERR_INPUT for a document that cannot be converted, DOCLING_ERR_CANCELLED) with its
 * message, and *out NULL. The text is NUL-terminated; *len (may be NULL) excludes the NUL. */
DOCLING_C_API docling_status docling_convert_file_to(const docling_engine* engine, const char* path,
                                                     docling_format format, const docling_convert_options* options,
                                                     char** out, size_t* len);

DOCLING_C_API void docling_result_free(docling_result* result);
DOCLING_C_API docling_conversion_status docling_result_status(const docling_result* result);
/* DOCLING_OK for success and partial; the error's status for failure and cancelled. */
DOCLING_C_API docling_status docling_result_error_code(const docling_result* result);
/* Pages converted, of which by the model and from the text layer; tokens generated. */
DOCLING_C_API int32_t docling_result_page_count(const docling_result* result);
DOCLING_C_API int32_t docling_result_model_page_count(const docling_result* result);
DOCLING_C_API int32_t docling_result_text_page_count(const docling_result* result);
DOCLING_C_API int32_t docling_result_generated_tokens(const docling_result* result);
DOCLING_C_API double docling_result_seconds(const docling_result* result);
/* Errors (why the status is partial or failure) and warnings: the i-th message, NULL when
 * i >= count; *page (may be NULL) receives its 1-based page, 0 for the document as a whole. */
DOCLING_C_API size_t docling_result_error_count(const docling_result* result);
DOCLING_C_API const char* docling_result_error(const docling_result* result, size_t i, int32_t* page);
DOCLING_C_API size_t docling_result_warning_count(const docling_result* result);
DOCLING_C_API const char* docling_result_warning(const docling_result* result, size_t i, int32_t* page);
/* The converted document, borrowed: valid until the result is freed; do not free it. */
DOCLING_C_API const docling_document* docling_result_document(const docling_result* result);

/* ---- documents ---------------------------------------------------------------------------- */

/* Bytes of an encoded image (PNG or JPEG). */
typedef struct docling_bytes {
  const void* data;
  size_t size;
} docling_bytes;

/* A document from DocTags (one page, or pages separated by <page_break>); `page_images`
 * (PNG/JPEG, one per page, or none: n_images 0) give page sizes and picture crops. Problems
 * in the tags are tolerated. */
DOCLING_C_API docling_status docling_document_from_doctags(const char* doctags, size_t len,
                                                           const docling_bytes* page_images, size_t n_images,
                                                           docling_document** out);
/* A document from DoclingDocument JSON. DOCLING_ERR_INPUT with the reason. */
DOCLING_C_API docling_status docling_document_from_json(const char* json, size_t len, docling_document** out);
/* Frees a document made by docling_document_from_*; does nothing for a borrowed one. */
DOCLING_C_API void docling_document_free(docling_document* document);
DOCLING_C_API int32_t docling_document_page_count(const docling_document* document);

/* One item of the document in reading order (body first, then furniture). The strings belong
 * to the document. */
typedef struct docling_item {
  size_t struct_size;  /* set by the caller: sizeof(docling_item) as it was compiled */
  const char* ref;     /* JSON pointer, "#/texts/3" */
  const char* label;   /* "section_header", "text", "table", "picture", ... */
  const char* text;    /* the text; Markdown of a table; caption of a picture */
  int32_t level;       /* heading level (1 = top), list nesting depth */
  int32_t page;        /* 1-based page of the first provenance; 0 when none */
  double left, top, right, bottom; /* on that page, in points, origin top-left */
  bool furniture;      /* page header / footer layer */
} docling_item;
DOCLING_C_API size_t docling_document_item_count(const docling_document* document);
/* Fills *out (its first out->struct_size bytes) with item i; DOCLING_ERR_INVALID_ARGUMENT when
 * i >= count. */
DOCLING_C_API docling_status docling_document_item(const docling_document* document, size_t i, docling_item* out);

/* The document in one format (NULL options = defaults) into a NUL-terminated buffer that the
 * caller frees with docling_free; *len (may be NULL) excludes the NUL. */
DOCLING_C_API docling_status docling_document_export(const docling_document* document, docling_format format,
                                                     const docling_export_options* options, char** out, size_t* len);
/* Writes DIR/STEM.<ext> for each format, atomically, with referenced images in
 * DIR/STEM_artifacts/. DOCLING_ERR_OUTPUT when a file cannot be written. */
DOCLING_C_API docling_status docling_document_save(const docling_document* document, const char* dir,
                                                   const char* stem, const docling_format* formats,
                                                   size_t n_formats, const docling_export_options* options);

#ifdef __cplusplus
}
#endif

#endif /* DOCLING_H */
