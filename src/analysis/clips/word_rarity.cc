#include "analysis/clips/word_rarity.h"

#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>
#include <sphinxbase/ngram_model.h>

#include <algorithm>
#include <filesystem>

namespace cutroom::analysis {
namespace {
constexpr const char* kDefaultLm = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";
}  // namespace

struct WordRarity::Model {
  struct LogmathFree {
    void operator()(logmath_t* l) const { logmath_free(l); }
  };
  struct NgramFree {
    void operator()(ngram_model_t* m) const { ngram_model_free(m); }
  };
  std::unique_ptr<logmath_t, LogmathFree> logmath;
  std::unique_ptr<ngram_model_t, NgramFree> lm;
};

std::unique_ptr<WordRarity> WordRarity::Load(const std::string& lm_path) {
  std::error_code ec;
  if (!std::filesystem::exists(lm_path, ec)) return nullptr;
  // sphinxbase logs every step of a load at INFO to stderr.
  err_set_logfp(nullptr);
  auto model = std::make_unique<Model>();
  model->logmath.reset(logmath_init(1.0001, 0, 0));
  if (!model->logmath) return nullptr;
  model->lm.reset(ngram_model_read(nullptr, lm_path.c_str(), NGRAM_AUTO, model->logmath.get()));
  if (!model->lm) return nullptr;
  return std::unique_ptr<WordRarity>(new WordRarity(std::move(model)));
}

WordRarity::WordRarity(std::unique_ptr<Model> model) : model_(std::move(model)) {}
WordRarity::~WordRarity() = default;

double WordRarity::Rarity(const std::string& word) const {
  std::lock_guard<std::mutex> lock(mu_);
  ngram_model_t* lm = model_->lm.get();
  if (word.empty() || ngram_wid(lm, word.c_str()) == ngram_unknown_wid(lm)) return kMaxRarity;
  int32 logp = ngram_probv(lm, word.c_str(), nullptr);
  double r = -logmath_log_to_log10(model_->logmath.get(), logp);
  return std::clamp(r, kMinRarity, kMaxRarity);
}

const WordRarity* DefaultWordRarity() {
  static const std::unique_ptr<WordRarity> rarity = WordRarity::Load(kDefaultLm);
  return rarity.get();
}

}  // namespace cutroom::analysis
