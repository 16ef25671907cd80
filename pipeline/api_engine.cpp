// The public engine (include/docling/engine.hpp): options checked and mapped onto the
// stages, one model service per engine, conversions on the callers' threads.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <new>
#include <thread>

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include "docling/engine.hpp"
#include "layout/page_range.h"
#include "pipeline/api_internal.h"
#include "pipeline/convert.h"
#include "pipeline/model_service.h"
#include "kernels/kernels.h"
#include "pipeline/kernel_tuning.h"
#include "vision/prompt.h"

namespace fs = std::filesystem;

namespace docling {

const char* version() { return DOCLING_VERSION; }

EngineOptions engine_defaults() { return EngineOptions{}; }
ConvertOptions convert_defaults() { return ConvertOptions{}; }

const char* to_string(Status s) {
  switch (s) {
    case Status::Success: return "success";
    case Status::Partial: return "partial";
    case Status::Failure: return "failure";
    case Status::Cancelled: return "cancelled";
  }
  return "?";
}

// --- finding a model ----------------------------------------------------------------------

bool is_model_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec) && fs::is_regular_file(dir / "model.safetensors", ec);
}

std::vector<fs::path> standard_model_dirs(const fs::path& cache_home) {
  std::vector<fs::path> dirs = {cache_home / "docling-cpp/models/granite-docling-258M"};
  // huggingface-cli download keeps snapshots/<revision>/ under the hub cache.
  fs::path hub = cache_home / "huggingface/hub/models--ibm-granite--granite-docling-258M/snapshots";
  std::error_code ec;
  std::vector<fs::path> snaps;
  if (fs::is_directory(hub, ec))
    for (const auto& e : fs::directory_iterator(hub, ec)) snaps.push_back(e.path());
  std::sort(snaps.begin(), snaps.end());
  if (snaps.empty()) dirs.push_back(hub);
  dirs.insert(dirs.end(), snaps.begin(), snaps.end());
  return dirs;
}

std::string missing_model_message(const std::vector<fs::path>& looked_in) {
  std::string m = "no granite-docling model found (a folder with config.json and model.safetensors)";
  if (!looked_in.empty()) m += "; looked in:\n";
  for (const fs::path& d : looked_in) m += "  " + d.string() + "\n";
  std::string target = looked_in.empty() ? std::string("DIR") : looked_in.front().string();
  m += "Download the official checkpoint (about 0.5 GB) once, e.g.\n"
       "  huggingface-cli download ibm-granite/granite-docling-258M --local-dir " + target + "\n"
       "or  git clone https://huggingface.co/ibm-granite/granite-docling-258M " + target + "\n"
       "Without a model, the text pipeline converts PDFs from their text layer.";
  return m;
}

// --- the engine -------------------------------------------------------------------------------

namespace {

void check_range(const char* name, long v, long lo, long hi) {
  if (v < lo || v > hi)
    throw InvalidArgumentError(std::string(name) + " = " + std::to_string(v) + ": expected " + std::to_string(lo) +
                               ".." + std::to_string(hi));
}

void check(const EngineOptions& o) {
  check_range("threads", o.threads, 0, 4096);
  check_range("batch_size", o.batch_size, 1, 64);
  check_range("pages_in_flight", o.pages_in_flight, 1, 256);
  check_range("max_new_tokens", o.max_new_tokens, 1, 131072);
}

void configure_kernels(const EngineOptions& o) {
  kernels::KernelSettings k;
  k.max_isa = o.max_isa == docling::Isa::Scalar ? kernels::Isa::Scalar
              : o.max_isa == docling::Isa::Avx2 ? kernels::Isa::Avx2
                                                : kernels::Isa::Avx512;
  k.int8_activations = o.int8_activations;
  k.bf16_dot = o.bf16_dot;
  k.amx = o.amx;
  kernels::configure(k);
}

// The vision precision to load with (Auto resolved for this CPU at the active kernel level)
// and, in `note`, what the log should say about it.
vision::Precision vision_precision(VisionPrecision p, std::string& note) {
  switch (p) {
    case VisionPrecision::F32: note = "f32"; return vision::Precision::F32;
    case VisionPrecision::Int8: note = "int8"; return vision::Precision::INT8;
    case VisionPrecision::Bf16:
      note = kernels::has_avx512_bf16() ? "bf16"
                                        : "bf16 (no AVX512-BF16 at the active kernel level: the products run as f32)";
      return vision::Precision::BF16;
    case VisionPrecision::Auto: break;
  }
  std::string why;
  vision::Precision v = vision::auto_vision_precision(&why);
  note = "auto: " + why;
  return v;
}

std::string decode_note(const EngineOptions& o) {
  if (o.decode_precision == DecodePrecision::F32) return "f32";
  if (o.weights == Weights::Int8) return "bf16 asked (int8 weights keep their own path)";
  return kernels::has_avx512_bf16() ? "bf16" : "bf16 (no AVX512-BF16 at the active kernel level: the products run as f32)";
}

VisionPrecision public_precision(vision::Precision p) {
  return p == vision::Precision::INT8 ? VisionPrecision::Int8
         : p == vision::Precision::BF16 ? VisionPrecision::Bf16
                                        : VisionPrecision::F32;
}

}  // namespace

// Poppler recurses once per nested form XObject (a few hundred bytes of stack a level), so
// documents run on TBB's workers too get a deep stack: 20,000 levels need about 8 MiB, TBB's
// default is 4 MiB. Address space only: pages are touched as the recursion goes.
constexpr size_t kWorkerStackBytes = size_t(64) << 20;

struct DOCLING_HIDDEN Engine::Impl {
  EngineOptions opt;
  tbb::global_control stack{tbb::global_control::thread_stack_size, kWorkerStackBytes};  // before the arena
  mutable tbb::task_arena arena;  // the model and the CPU-heavy stages run here
  std::unique_ptr<VlmEngine> vlm;
  std::unique_ptr<ModelService> service;

  explicit Impl(const EngineOptions& o)
      : opt(o), arena(o.threads > 0 ? o.threads : tbb::task_arena::automatic) {}

  void log(LogLevel level, const std::string& m) const {
    if (opt.log) opt.log(level, m);
  }

  JobOptions job_options(const ConvertOptions& c) const;
  JobResult convert(DocJob& job, const ConvertOptions& c) const;
  void run_model_pages(DocJob& job, const JobOptions& jo, const ConvertOptions& c) const;
  void deliver_text_pages(const DocJob& job, const ConvertOptions& c) const;
  void tune_kernels();
};

// The decode parameters from the tuning folder (measured there on first use), over the table's.
void Engine::Impl::tune_kernels() {
  pipeline::TunedParams t;
  try {
    arena.execute([&] { t = pipeline::cached_decode_params(opt.kernel_tuning_dir, arena.max_concurrency()); });
  } catch (const std::exception& e) {  // e.g. no memory for the measurement: the table's values stay
    log(LogLevel::Warning, std::string("decode kernel tuning failed, the built-in table is used: ") + e.what());
    return;
  }
  kernels::KernelSettings k = kernels::current_settings();
  k.decode = t.params;
  kernels::configure(k);
  log(LogLevel::Debug, "decode kernels: " + t.note);
  if (!t.warning.empty()) log(LogLevel::Warning, t.warning);
}

Engine::Engine(const EngineOptions& options) {
  check(options);
  impl_ = std::make_unique<Impl>(options);
  configure_kernels(options);
  if (options.model_dir.empty()) return;
  if (!is_model_dir(options.model_dir))
    throw ModelError(options.model_dir + ": not a model folder (config.json and model.safetensors are needed)\n" +
                     missing_model_message(std::vector<fs::path>{}));
  if (!options.kernel_tuning_dir.empty()) impl_->tune_kernels();
  std::string vision_note;
  const vision::Precision vp = vision_precision(options.vision_precision, vision_note);
  impl_->opt.vision_precision = public_precision(vp);  // options() tells what runs (Auto resolved)
  try {
    impl_->arena.execute([&] {
      vision::LoadOptions lo;
      lo.weights = options.weights == Weights::Int8 ? vision::WeightType::INT8 : vision::WeightType::BF16;
      lo.kv = options.kv_cache == KvCache::F32 ? vision::KvType::F32 : vision::KvType::F16;
      lo.vision = vp;
      lo.decode = options.decode_precision == DecodePrecision::Bf16 ? vision::Precision::BF16 : vision::Precision::F32;
      lo.screen_head = options.screen_head;
      impl_->vlm = VlmEngine::load(options.model_dir, lo);
    });
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::OutOfMemory, options.model_dir + ": out of memory loading the model");
  } catch (const std::exception& e) {
    throw ModelError(e.what());
  }
  ServiceOptions so;
  so.batch = options.batch_size;
  so.pages_in_flight = options.pages_in_flight;
  so.max_new_tokens = options.max_new_tokens;
  so.kv = options.kv_cache == KvCache::F32 ? vision::KvType::F32 : vision::KvType::F16;
  try {
    impl_->service = std::make_unique<ModelService>(*impl_->vlm, so, impl_->arena);
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::OutOfMemory, "not enough memory for the decoder's cache (batch_size " +
                                            std::to_string(so.batch) + " x " + std::to_string(2048 + so.max_new_tokens) +
                                            " tokens): lower batch_size or max_new_tokens");
  }
  impl_->log(LogLevel::Info, "model loaded from " + options.model_dir + " (weights " +
                                 (options.weights == Weights::Int8 ? "int8" : "bf16") + ", kernels " +
                                 kernels::isa_name(kernels::active_isa()) + ", vision precision " + vision_note +
                                 ", output head " + (impl_->vlm->model().decoder().screens_head() ? "int8 screen" : "full") +
                                 ", decode precision " + decode_note(options) + ")");
}

Engine::~Engine() = default;

bool Engine::has_model() const { return impl_->vlm != nullptr; }
const EngineOptions& Engine::options() const { return impl_->opt; }

EngineStats Engine::stats() const {
  EngineStats out;
  if (!impl_->service) return out;
  ServiceStats s = impl_->service->stats();
  out.decoder_steps = s.steps;
  out.decoded_tokens = s.tokens;
  out.decoder_rows = s.rows;
  out.pages_encoded = s.pages_encoded;
  out.shared_steps = s.shared_steps;
  out.max_rows_in_a_step = s.max_rows;
  out.max_pages_in_a_step = s.max_pages;
  out.max_conversions_in_a_step = s.max_owners;
  return out;
}

JobOptions Engine::Impl::job_options(const ConvertOptions& c) const {
  check_range("max_new_tokens", c.max_new_tokens, 1, opt.max_new_tokens);
  check_range("limits.max_side", c.limits.max_side, 16, 1 << 20);
  if (c.limits.max_pixels < 256) throw InvalidArgumentError("limits.max_pixels must be at least 256");
  if (!c.pages.empty()) {
    try {
      parse_page_spans(c.pages);
    } catch (const std::exception& e) {
      throw InvalidArgumentError(std::string("pages: ") + e.what());
    }
  }
  JobOptions j;
  switch (c.pipeline) {
    case Pipeline::Default: j.pipeline = vlm ? PipelineKind::Vlm : PipelineKind::Text; break;
    case Pipeline::Vlm:
      if (!vlm) throw ModelError("the vlm pipeline needs a model (EngineOptions::model_dir)");
      j.pipeline = PipelineKind::Vlm;
      break;
    case Pipeline::Text: j.pipeline = PipelineKind::Text; break;
    case Pipeline::Auto: j.pipeline = PipelineKind::Auto; break;
  }
  j.pages = c.pages;
  j.password = c.password;
  j.vlm.max_new_tokens = c.max_new_tokens;
  j.vlm.force_backend_text = c.force_backend_text;
  j.vlm.direct_render = c.render_direct;
  j.vlm.loop_guard = c.loop_guard;
  j.vlm.embed_page_images = c.page_images;
  j.vlm.speculate = c.speculate;
  j.vlm.check_text_layer = c.check_text_layer;
  check_range("page_image_dpi", c.page_image_dpi, 0, 600);
  j.page_image_dpi = c.page_image_dpi;
  j.text.on_page_start = c.on_page_start;
  j.limits.max_side = c.limits.max_side;
  j.limits.max_pixels = c.limits.max_pixels;
  j.limits.max_inflated_bytes = c.limits.max_inflated_bytes;
  j.max_input_bytes = c.limits.max_input_bytes;
  switch (c.box_origin) {
    case BoxOrigin::Default: break;
    case BoxOrigin::TopLeft: j.coord_origin = CoordOrigin::TopLeft; break;
    case BoxOrigin::BottomLeft: j.coord_origin = CoordOrigin::BottomLeft; break;
    default: throw InvalidArgumentError("box_origin: not a BoxOrigin value");
  }
  return j;
}

namespace {

bool is_cancelled(const ConvertOptions& c) { return c.cancel && c.cancel->cancelled(); }

// Pages of a model-run document as they come back from the service.
struct Arrivals {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<size_t, std::optional<std::string>>> done;  // page index, error

  void put(size_t i, const std::string* error) {
    {
      std::lock_guard<std::mutex> lock(mu);
      done.emplace_back(i, error ? std::optional<std::string>(*error) : std::nullopt);
    }
    cv.notify_one();
  }
  // Waits at most wait_ms for arrivals and takes them.
  std::deque<std::pair<size_t, std::optional<std::string>>> take(int wait_ms) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return !done.empty(); });
    return std::exchange(done, {});
  }
};

Status to_public(DocStatus s) {
  switch (s) {
    case DocStatus::Success: return Status::Success;
    case DocStatus::Partial: return Status::Partial;
    case DocStatus::Failure: return Status::Failure;
    case DocStatus::Cancelled: return Status::Cancelled;
  }
  return Status::Failure;
}

PageQuality to_public(const PageQualityInfo& q) {
  PageQuality p;
  p.page = q.page;
  p.mean_logprob = q.confidence.mean_logprob;
  p.min_logprob = q.confidence.min_logprob;
  p.score = q.confidence.score();
  p.grade = q.confidence.tokens ? q.confidence.grade() : "";
  p.checked_items = q.checked;
  for (Ref r : q.suspects) p.suspects.push_back(r.pointer());
  return p;
}

ConvertResult to_public(JobResult r) {
  ConvertResult out;
  out.status = to_public(r.status);
  tree(out.document) = std::move(r.doc);
  out.errors = std::move(r.errors);
  out.warnings = std::move(r.warnings);
  out.pages = r.pages;
  out.model_pages = r.vlm_pages;
  out.text_pages = r.text_pages;
  out.generated_tokens = r.generated_tokens;
  for (const PageQualityInfo& q : r.quality) out.quality.push_back(to_public(q));
  out.timings.total_s = r.seconds;
  return out;
}

}  // namespace

void Engine::Impl::deliver_text_pages(const DocJob& job, const ConvertOptions& c) const {
  if (!c.on_page || !job.have_text) return;
  for (int p : job.text_pages) {
    if (std::find(job.vlm_pages.begin(), job.vlm_pages.end(), p) != job.vlm_pages.end()) continue;
    DoclingDocument one;
    std::vector<int> pages = {p};
    append_document(tree(one), job.text.doc, 0, &pages);
    c.on_page(PageResult{p, false, &one, {}, {}, {}, {}});
  }
}

// The document's model pages through the engine's service: each takes an engine-wide slot,
// is rendered here, generated by the driver, and handed back to this thread.
void Engine::Impl::run_model_pages(DocJob& job, const JobOptions& jo, const ConvertOptions& c) const {
  Arrivals arrivals;
  std::function<bool()> cancelled = [&c] { return is_cancelled(c); };
  size_t next = 0, outstanding = 0, n = job.vlm.size();
  while (next < n || outstanding > 0) {
    bool started = false;
    if (next < n && !is_cancelled(c) && service->try_acquire_slot(outstanding ? 0 : 20)) {
      VlmPage& vp = *job.vlm[next];
      if (c.on_page_start) c.on_page_start(vp.page_no);
      try {
        arena.execute([&] {
          vlm_render(*job.source, vp.page_no, *vlm, jo.vlm, vp);
          vlm_prepare(*vlm, jo.vlm, vp);
        });
        size_t i = next;
        service->submit(
            ServicePage{&vp, &jo.vlm, cancelled, [&arrivals, i](const std::string* e) { arrivals.put(i, e); }, &job});
        ++outstanding;
      } catch (const std::exception& e) {
        service->release_slot();
        std::string what = e.what();
        end_vlm_page(job, next, &what);
      }
      ++next, started = true;
    } else if (next < n && is_cancelled(c)) {
      for (; next < n; ++next) job.vlm[next]->ok = false;  // never started: not done
    }
    if (outstanding == 0) continue;
    for (auto& [i, error] : arrivals.take(started ? 0 : 20)) {
      --outstanding;
      VlmPage& vp = *job.vlm[i];
      end_vlm_page(job, i, error ? &*error : nullptr);
      if (c.on_page && !error && vp.ok) {
        DoclingDocument one;
        append_document(tree(one), vp.doc, vp.page_no - 1);
        if (jo.coord_origin) set_coord_origin(tree(one), *jo.coord_origin, true);
        PageQualityInfo q{vp.page_no, vp.confidence, vp.layer_check.checked, vp.layer_check.suspects};
        c.on_page(PageResult{vp.page_no, true, &one, vp.doctags, vp.warnings, vp.tokens, to_public(q)});
      }
    }
  }
}

JobResult Engine::Impl::convert(DocJob& job, const ConvertOptions& c) const {
  JobOptions jo = job_options(c);
  // end_document reads this flag: pages left unfinished by a cancel make it Cancelled.
  std::atomic<bool> stopped{false};
  jo.cancel = &stopped;
  bool model = false;
  arena.execute([&] { model = begin_document(job, jo, vlm.get()); });
  deliver_text_pages(job, c);
  if (model) run_model_pages(job, jo, c);
  stopped.store(is_cancelled(c));
  arena.execute([&] { end_document(job, jo); });
  return std::move(job.result);
}

namespace {

// A bad_alloc anywhere in a conversion becomes the document's failure, not the caller's crash.
template <class F>
ConvertResult guarded(const std::string& name, F&& f) {
  try {
    return f();
  } catch (const Error&) {
    throw;  // the caller's options: InvalidArgumentError, ModelError
  } catch (const std::bad_alloc&) {
    ConvertResult r;
    r.errors.push_back({0, name + ": out of memory"});
    return r;
  } catch (const std::exception& e) {
    ConvertResult r;
    r.errors.push_back({0, name + ": " + e.what()});
    return r;
  }
}

}  // namespace

ConvertResult Engine::convert(const fs::path& file, const ConvertOptions& options) const {
  return guarded(file.string(), [&] {
    DocJob job;
    job.src = Source{file, file.filename().replace_extension()};
    return to_public(impl_->convert(job, options));
  });
}

ConvertResult Engine::convert(const uint8_t* data, size_t size, const std::string& name,
                              const ConvertOptions& options) const {
  return guarded(name, [&] {
    DocJob job;
    job.src = Source{name.empty() ? fs::path("input") : fs::path(name), fs::path(name).filename().replace_extension()};
    job.bytes = std::vector<uint8_t>(data, data + size);
    return to_public(impl_->convert(job, options));
  });
}

void Engine::convert_all(const std::vector<Input>& inputs, const ConvertOptions& options, const BatchOptions& batch,
                         const DocumentCallback& done) const {
  impl_->job_options(options);  // bad options fail the call, not every document
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  int workers = batch.workers > 0 ? batch.workers
                : has_model()     ? std::max(impl_->opt.pages_in_flight, 2)
                                  : (impl_->opt.threads > 0 ? impl_->opt.threads : cores);
  workers = std::max(1, std::min<int>(workers, int(inputs.size())));

  std::mutex mu;
  std::vector<std::optional<ConvertResult>> parked(batch.ordered ? inputs.size() : 0);
  size_t next_out = 0;
  auto deliver = [&](size_t i, ConvertResult r) {
    std::lock_guard<std::mutex> lock(mu);
    if (!batch.ordered) return done(i, r);
    parked[i] = std::move(r);
    for (; next_out < parked.size() && parked[next_out]; ++next_out) {
      done(next_out, *parked[next_out]);
      parked[next_out].reset();
    }
  };
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < inputs.size();) {
      const Input& in = inputs[i];
      ConvertResult r;
      if (is_cancelled(options)) r.status = Status::Cancelled;
      else if (in.bytes.empty()) r = convert(in.path, options);
      else r = convert(in.bytes.data(), in.bytes.size(), in.path.string(), options);
      deliver(i, std::move(r));
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

// --- region instructions ------------------------------------------------------------------------

InstructionResult Engine::run(const PageImage& image, Instruction what, std::optional<Box> region,
                              const ConvertOptions& options) const {
  if (!impl_->vlm) throw ModelError("instructions need a model (EngineOptions::model_dir)");
  if (image.empty() || image.rgb.size() != size_t(image.width) * image.height * 3)
    throw InvalidArgumentError("run: the image is empty or its size does not match its pixels");
  using vision::Task;
  Task task = what == Instruction::Table     ? Task::ConvertTable
              : what == Instruction::Formula ? Task::ConvertFormula
              : what == Instruction::Code    ? Task::ConvertCode
              : what == Instruction::Chart   ? Task::ConvertChart
              : what == Instruction::Ocr     ? Task::OcrRegion
              : what == Instruction::Page    ? Task::ConvertPage
                                             : Task::IdentifyElement;
  vision::LocBox loc;
  if (task == Task::OcrRegion || task == Task::IdentifyElement) {
    if (!region) throw InvalidArgumentError("run: Ocr and Identify need a region");
    auto grid = [](double v, int extent) { return int(std::clamp(v / extent * 500.0, 0.0, 500.0)); };
    loc = {grid(region->left, image.width), grid(region->top, image.height), grid(region->right, image.width),
           grid(region->bottom, image.height)};
  }
  JobOptions jo = impl_->job_options(options);
  jo.vlm.prompt = vision::instruction(task, loc);
  jo.vlm.speculate = false;  // no text layer to draft from
  VlmPage vp;
  vp.page_no = 1;
  vp.page_image.width = image.width, vp.page_image.height = image.height, vp.page_image.rgb = image.rgb;
  vp.model_image = vp.page_image;
  impl_->arena.execute([&] { vlm_prepare(*impl_->vlm, jo.vlm, vp); });
  while (!impl_->service->try_acquire_slot(50))
    if (is_cancelled(options)) throw CancelledError("run: cancelled");
  Arrivals arrivals;
  std::function<bool()> cancelled = [&options] { return is_cancelled(options); };
  impl_->service->submit(
      ServicePage{&vp, &jo.vlm, cancelled, [&arrivals](const std::string* e) { arrivals.put(0, e); }, &arrivals});
  std::deque<std::pair<size_t, std::optional<std::string>>> got;
  while (got.empty()) got = arrivals.take(50);
  if (got.front().second) throw InputError("run: " + *got.front().second);
  if (!vp.ok) throw CancelledError("run: cancelled");
  InstructionResult r;
  r.doctags = vp.doctags;
  tree(r.document) = std::move(vp.doc);
  r.warnings = vp.warnings;
  r.tokens = vp.tokens;
  return r;
}

}  // namespace docling
