// The pocketsphinx engine: audio streamed from the file through the voice
// activity segmenter; each utterance is decoded whole by one of a pool of
// decoders (one per core, made once per process) in parallel.
#include <pocketsphinx.h>
#include <spdlog/spdlog.h>

#include <sphinxbase/fe.h>
#include <sphinxbase/logmath.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "analysis/transcribe/segmenting.h"
#include "analysis/transcribe/transcriber.h"
#include "analysis/transcribe/vad.h"
#include "media/audio.h"

namespace cutroom::analysis {
namespace {

constexpr const char* kModelDir = "/usr/share/pocketsphinx/model/en-us";
constexpr int kSampleRate = 16000;
constexpr double kFrameS = 0.01;  // pocketsphinx's 100 frames per second

struct DecoderFree {
  void operator()(ps_decoder_t* ps) const { ps_free(ps); }
};
using DecoderPtr = std::unique_ptr<ps_decoder_t, DecoderFree>;

struct Decoded {
  int64_t start_sample = 0;
  std::vector<TranscriptWord> words;
};

// "word(2)" -> "word"; fillers, silence and sentence markers -> "".
std::string CleanWord(const char* raw) {
  std::string w = raw ? raw : "";
  if (w.empty() || w[0] == '<' || w[0] == '[' || (w.size() > 1 && w[0] == '+' && w[1] == '+')) return "";
  auto paren = w.find('(');
  if (paren != std::string::npos) w.resize(paren);
  return w;
}

class PocketsphinxEngine : public Transcriber {
 public:
  static Result<std::unique_ptr<PocketsphinxEngine>> Create(int decoders) {
    std::string hmm = std::string(kModelDir) + "/en-us";
    std::string lm = std::string(kModelDir) + "/en-us.lm.bin";
    std::string dict = std::string(kModelDir) + "/cmudict-en-us.dict";
    for (const auto& f : {hmm, lm, dict}) {
      if (!std::filesystem::exists(f)) {
        return Status::NotFound("pocketsphinx model file " + f + " is missing (install pocketsphinx-en-us)");
      }
    }
    auto engine = std::unique_ptr<PocketsphinxEngine>(new PocketsphinxEngine());
    for (int i = 0; i < decoders; ++i) {
      // remove_silence=no keeps the timeline intact, so word times are real.
      cmd_ln_t* config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm.c_str(), "-lm", lm.c_str(), "-dict",
                                     dict.c_str(), "-remove_silence", "no", "-cmn", "batch", "-logfn", "/dev/null", nullptr);
      if (!config) return Status::Internal("pocketsphinx rejected its configuration");
      DecoderPtr ps(ps_init(config));
      cmd_ln_free_r(config);  // the decoder keeps its own reference
      if (!ps) return Status::Internal("pocketsphinx could not load its model from " + std::string(kModelDir));
      engine->idle_.push_back(std::move(ps));
    }
    return engine;
  }

  std::string engine() const override { return "pocketsphinx"; }
  std::vector<std::string> languages() const override { return {"en"}; }

  Result<Transcript> TranscribeFile(const std::string& path, const TranscribeOptions& options) override {
    if (options.language != "en" && options.language != "en-US" && options.language != "en-us") {
      return Status::InvalidArgument("the pocketsphinx engine transcribes English only (language 'en'), not '" +
                                     options.language + "'");
    }
    Transcript out;
    out.engine = "pocketsphinx";
    out.model = "en-us (cmusphinx)";
    out.language = "en";

    // Producer: audio -> utterances into a bounded queue; consumers decode.
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Utterance> queue;
    bool done = false;
    bool cancelled = false;
    Status failure;
    std::vector<Decoded> results;
    int64_t decoded_samples = 0;
    const size_t kMaxQueued = 8;

    auto consume = [&] {
      DecoderPtr ps = Acquire();
      while (true) {
        Utterance u;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return !queue.empty() || done || cancelled; });
          if (cancelled || (queue.empty() && done)) break;
          u = std::move(queue.front());
          queue.pop_front();
        }
        cv.notify_all();
        Decoded d = Decode(ps.get(), u);
        std::lock_guard lock(mu);
        decoded_samples = std::max<int64_t>(decoded_samples, u.start_sample + static_cast<int64_t>(u.samples.size()));
        results.push_back(std::move(d));
      }
      Release(std::move(ps));
    };
    std::vector<std::thread> workers;
    for (size_t i = 0; i < pool_size_; ++i) workers.emplace_back(consume);

    VoiceActivitySegmenter vad(VadOptions{}, [&](Utterance u) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return queue.size() < kMaxQueued || cancelled; });
      queue.push_back(std::move(u));
      cv.notify_all();
    });
    int64_t fed = 0;
    Status extracted = media::ExtractAudio(path, kSampleRate, [&](const int16_t* s, size_t n) -> Status {
      vad.Push(s, n);
      fed += static_cast<int64_t>(n);
      if (options.progress && options.duration_s > 0) {
        int64_t d;
        {
          std::lock_guard lock(mu);
          d = decoded_samples;
        }
        double frac = std::min(0.99, 0.5 * (static_cast<double>(fed) + static_cast<double>(d)) /
                                         (options.duration_s * kSampleRate));
        if (!options.progress(frac)) return Status::Cancelled("transcription cancelled");
      }
      return Status::Ok();
    });
    if (extracted.ok() || extracted.IsNotFound()) vad.Finish();
    {
      std::lock_guard lock(mu);
      done = true;
      if (!extracted.ok() && !extracted.IsNotFound()) cancelled = true;
    }
    cv.notify_all();
    for (auto& t : workers) t.join();
    if (extracted.IsNotFound() && fed == 0) {
      out.note = "the media has no audio track: nothing to transcribe";
      return out;
    }
    if (!extracted.ok() && !extracted.IsNotFound()) return extracted;

    std::sort(results.begin(), results.end(),
              [](const Decoded& a, const Decoded& b) { return a.start_sample < b.start_sample; });
    for (auto& d : results) {
      // An utterance is one sentence-like segment unless it has long inner
      // pauses (pocketsphinx gives no punctuation to split at).
      for (auto& seg : SegmentWords(d.words)) out.segments.push_back(std::move(seg));
    }
    if (out.segments.empty()) out.note = "no speech was found";
    return out;
  }

 private:
  PocketsphinxEngine() = default;

  DecoderPtr Acquire() {
    std::unique_lock lock(pool_mu_);
    pool_cv_.wait(lock, [this] { return !idle_.empty(); });
    DecoderPtr ps = std::move(idle_.back());
    idle_.pop_back();
    return ps;
  }
  void Release(DecoderPtr ps) {
    {
      std::lock_guard lock(pool_mu_);
      idle_.push_back(std::move(ps));
    }
    pool_cv_.notify_one();
  }

  static Decoded Decode(ps_decoder_t* ps, const Utterance& u) {
    Decoded d;
    d.start_sample = u.start_sample;
    double offset = static_cast<double>(u.start_sample) / kSampleRate;
    // Each utterance starts from a clean front end: the noise estimate
    // would otherwise carry over from whatever this decoder heard before,
    // and the same audio would transcribe differently on a re-run.
    fe_start_stream(ps_get_fe(ps));
    if (ps_start_utt(ps) < 0) return d;
    // The whole utterance at once (full_utt), so the search sees all of it.
    ps_process_raw(ps, u.samples.data(), u.samples.size(), FALSE, TRUE);
    ps_end_utt(ps);
    logmath_t* lmath = ps_get_logmath(ps);
    for (ps_seg_t* seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
      std::string word = CleanWord(ps_seg_word(seg));
      if (word.empty()) continue;
      int sf = 0, ef = 0;
      ps_seg_frames(seg, &sf, &ef);
      int32 ascr, lscr, lback;
      double conf = logmath_exp(lmath, ps_seg_prob(seg, &ascr, &lscr, &lback));
      d.words.push_back({word, offset + sf * kFrameS, offset + (ef + 1) * kFrameS, std::clamp(conf, 0.0, 1.0)});
    }
    return d;
  }

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<DecoderPtr> idle_;
  size_t pool_size_ = 0;

  friend Result<Transcriber*> cutroom::analysis::PocketsphinxTranscriber();
};

}  // namespace

std::string Transcript::Text() const {
  std::string out;
  for (const auto& s : segments) {
    if (!out.empty()) out += ' ';
    out += s.text;
  }
  return out;
}

Result<Transcriber*> PocketsphinxTranscriber() {
  static std::mutex mu;
  static std::unique_ptr<PocketsphinxEngine> engine;
  std::lock_guard lock(mu);
  if (!engine) {
    int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    CUTROOM_ASSIGN_OR_RETURN(engine, PocketsphinxEngine::Create(n));
    engine->pool_size_ = static_cast<size_t>(n);
    spdlog::info("loaded the pocketsphinx en-us model ({} decoder(s))", n);
  }
  return static_cast<Transcriber*>(engine.get());
}

}  // namespace cutroom::analysis
