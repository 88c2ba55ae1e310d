// How rare a word is in general English, from the unigram probabilities of
// pocketsphinx's en-us language model (Debian's pocketsphinx-en-us:
// /usr/share/pocketsphinx/model/en-us/en-us.lm.bin, read with sphinxbase's
// ngram_model API). Concrete, specific talk ("the walk-in freezer thawed")
// uses rarer words than filler ("as you all know, this is great"), so a
// clip's mean rarity against its talk's is one explainable sign of
// substance.
//
// The model (about 30 MB, 0.1 s to load) is loaded once per process on
// first use and kept; when it is not installed, DefaultWordRarity() is
// null and callers leave the feature out.
// Thread-safety: Rarity may be called from any thread (lookups are
// serialised inside; they are cheap).
#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace cutroom::analysis {

class WordRarity {
 public:
  // Null when the model file cannot be read.
  static std::unique_ptr<WordRarity> Load(const std::string& lm_path);
  ~WordRarity();
  WordRarity(const WordRarity&) = delete;
  WordRarity& operator=(const WordRarity&) = delete;

  // -log10 of the word's unigram probability (lower-case), within
  // [kMinRarity, kMaxRarity]: "the" about 1.4, "customers" 4.3, "xylophone"
  // 7. A word the model does not know counts as kMaxRarity.
  double Rarity(const std::string& word) const;

  static constexpr double kMinRarity = 1.0;
  static constexpr double kMaxRarity = 7.0;

 private:
  struct Model;
  explicit WordRarity(std::unique_ptr<Model> model);
  std::unique_ptr<Model> model_;
  mutable std::mutex mu_;
};

// The en-us model's rarity, loaded on first call; null when not installed.
const WordRarity* DefaultWordRarity();

}  // namespace cutroom::analysis
