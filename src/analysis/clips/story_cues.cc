#include "analysis/clips/story_cues.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "analysis/clips/text_cues.h"

namespace cutroom::analysis {
namespace {

using Words = std::vector<std::string>;
using WordSet = std::set<std::string_view>;

bool In(const WordSet& set, const std::string& w) { return set.count(w) > 0; }

bool At(const Words& w, size_t i, std::initializer_list<std::string_view> phrase) {
  size_t k = i;
  for (std::string_view p : phrase) {
    if (k >= w.size() || w[k] != p) return false;
    ++k;
  }
  return true;
}

// Irregular past forms of common verbs (simple past, and the participles
// that double as it). Regular verbs are caught by their "-ed".
const WordSet& IrregularPast() {
  static const WordSet k = {
      "was",     "were",    "had",     "did",     "went",    "came",    "said",    "told",    "thought", "knew",
      "found",   "took",    "got",     "made",    "saw",     "sent",    "lost",    "broke",   "ran",     "left",
      "gave",    "began",   "brought", "bought",  "caught",  "felt",    "fell",    "forgot",  "held",    "kept",
      "led",     "meant",   "met",     "paid",    "put",     "rang",    "rose",    "sat",     "sold",    "spent",
      "stood",   "stole",   "struck",  "swore",   "taught",  "threw",   "understood", "woke", "won",     "wrote",
      "drove",   "flew",    "froze",   "grew",    "hid",     "hit",     "hung",    "heard",   "let",     "lay",
      "sang",    "shook",   "shot",    "shut",    "slept",   "spoke",   "spun",    "stuck",   "swam",    "tore",
      "wore",    "became",  "overslept", "overheard", "mistook", "forgave", "withdrew", "undid", "bit", "blew",
      "burnt",   "built",   "chose",   "dealt",   "drew",    "drank",   "ate",     "fought",  "fed",     "fled",
      "forbade", "hurt",    "knelt",   "leapt",   "lit",     "quit",    "rode",    "sank",    "sought",  "split",
      "spread",  "sprang",  "stung",   "swept",   "swung",   "wept",    "wound",   "couldn't", "wasn't", "weren't",
      "didn't",  "hadn't",  "could",   "would"};
  return k;
}

// "-ed" words that are not past tenses.
const WordSet& NotPast() {
  static const WordSet k = {"need", "needed", "indeed", "speed", "feed", "seed", "bed", "red", "shed", "hundred",
                            "bred", "fred", "ted", "ned", "led", "weed", "deed", "greed", "proceed", "succeed",
                            "exceed", "embed", "ahead", "instead", "bread", "dead", "head", "tread", "sled",
                            "wed", "shred", "screed", "breed", "steed", "reed", "heed", "sled", "united",
                            "limited", "interested", "excited", "detailed", "advanced", "required", "related",
                            "based", "dedicated", "qualified", "experienced", "supposed", "used", "called"};
  return k;
}

// Words after which an "-ed" form is a participle of a present or future
// report ("has been published", "will be sent", "is updated"), not an event.
const WordSet& ReportAuxiliaries() {
  static const WordSet k = {"has", "have", "been", "be", "being", "is", "are", "will", "to", "get", "gets", "am"};
  return k;
}

int PastVerbs(const Words& w) {
  int n = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const std::string& x = w[i];
    bool after_aux = i > 0 && In(ReportAuxiliaries(), w[i - 1]);
    if (In(IrregularPast(), x)) {
      n += after_aux ? 0 : 1;
    } else if (x.size() >= 5 && x.compare(x.size() - 2, 2, "ed") == 0 && !In(NotPast(), x) && !after_aux) {
      ++n;
    }
  }
  return n;
}

bool HasActor(const Words& w) {
  static const WordSet k = {"i",   "we",  "she", "he",     "they",     "my",      "our",    "his",
                            "her", "him", "me",  "them",   "someone",  "somebody", "nobody", "no-one"};
  return std::any_of(w.begin(), w.end(), [](const std::string& x) { return In(k, x); });
}

bool HasAnchor(const Words& w) {
  static const WordSet kPeriods = {"spring", "summer", "autumn", "fall",   "winter", "year",    "month",   "week",
                                   "night",  "time",   "morning", "evening", "afternoon", "day", "weekend", "season",
                                   "shift",  "quarter", "friday", "monday", "tuesday", "wednesday", "thursday",
                                   "saturday", "sunday", "christmas", "moment", "trip"};
  static const WordSet kMonths = {"january", "february", "march",     "april",   "may",      "june",
                                  "july",    "august",   "september", "october", "november", "december"};
  static const WordSet kUnits = {"years", "months", "weeks", "days", "hours", "minutes", "decades"};
  for (size_t i = 0; i < w.size(); ++i) {
    const std::string& x = w[i];
    if (x == "ago" || x == "once" || x == "halfway" || x == "suddenly") return true;
    bool next_period = i + 1 < w.size() && In(kPeriods, w[i + 1]);
    if ((x == "last" || x == "one" || x == "that" || x == "same" || x == "previous") && next_period) return true;
    if ((x == "in" || x == "during" || x == "back") && i + 1 < w.size() &&
        (In(kMonths, w[i + 1]) || (w[i + 1].size() == 4 && std::all_of(w[i + 1].begin(), w[i + 1].end(), ::isdigit))))
      return true;
    if (x == "later" && i > 0 && In(kUnits, w[i - 1])) return true;
    // "on monday morning": a weekday narrowed to a moment sets a scene; a
    // bare weekday is more often a date in the calendar.
    static const WordSet kDays = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
    static const WordSet kMoments = {"morning", "night", "evening", "afternoon"};
    if (In(kDays, x) && i > 0 && (w[i - 1] == "on" || w[i - 1] == "that" || w[i - 1] == "one") && i + 1 < w.size() &&
        In(kMoments, w[i + 1]))
      return true;
    if (At(w, i, {"when", "i", "was"}) || At(w, i, {"when", "we", "were"}) || At(w, i, {"by", "the", "time"}) ||
        At(w, i, {"the", "next", "morning"}) || At(w, i, {"the", "next", "day"}) || At(w, i, {"at", "the", "time"}) ||
        At(w, i, {"back", "in"}) || At(w, i, {"back", "then"}))
      return true;
  }
  return false;
}

// Disruption, loss, danger, emotion and money: what a story puts at risk.
int Stakes(const Words& w) {
  static const WordSet k = {
      "broke",     "broken",    "break",     "died",      "dead",      "death",     "deleted",   "lost",
      "lose",      "failed",    "failing",   "failure",   "crashed",   "crash",     "froze",     "frozen",
      "burst",     "fire",      "smoke",     "alarm",     "bleed",     "blood",     "emergency", "accident",
      "mistake",   "error",     "wrong",     "fake",      "stolen",    "empty",     "ruined",    "locked",
      "stuck",     "forgot",    "forgotten", "missed",    "sued",      "fired",     "resign",    "panic",
      "furious",   "angry",     "scared",    "terrified", "worried",   "embarrassed", "embarrassing", "shocked",
      "cried",     "shouted",   "screamed",  "laughed",   "cheered",   "quiet",     "hurt",      "injured",
      "disaster",  "collapsed", "flooded",   "storm",     "stopped",   "damage",    "damaged",   "risk",
      "danger",    "dangerous", "serious",   "cost",      "costly",    "dollars",   "pounds",    "euros",
      "thousand",  "million",   "urgent",    "desperate", "nervous",   "afraid",    "fear",      "problem",
      "trouble",   "hurt",      "sick",      "ill",       "hospital",  "police",    "thief",     "bug",
      "outage",    "down",      "late",      "never",     "nothing",   "nobody",    "alone",     "ice",
      "snow",      "rain",      "exploded",  "spilled",   "dropped",   "wrecked",   "threw",     "fight",
      "argued",    "complained", "refused",  "rejected",  "cancelled", "canceled",  "thaw",      "thawed"};
  return static_cast<int>(std::count_if(w.begin(), w.end(), [](const std::string& x) { return In(k, x); }));
}

bool HasTurn(const Words& w) {
  static const WordSet k = {"but",       "instead",  "until",      "suddenly", "however",  "realised",
                            "realized",  "noticed",  "discovered", "although", "though",   "despite",
                            "wasn't",    "didn't",   "couldn't",   "hadn't",   "without",  "unless"};
  for (size_t i = 0; i < w.size(); ++i) {
    if (In(k, w[i])) return true;
    if (At(w, i, {"turned", "out"}) || At(w, i, {"it", "was"}) || At(w, i, {"no", "idea"}) ||
        At(w, i, {"only", "then"}) || At(w, i, {"felt", "off"}))
      return true;
  }
  return false;
}

bool HasResolution(const Words& w) {
  static const WordSet k = {"lesson", "lessons", "learned", "learnt", "taught", "moral", "ever", "since"};
  // "So when an experiment goes wrong, ...": a sentence opening on "so"
  // draws the consequence of what was told.
  if (!w.empty() && w[0] == "so") return true;
  for (size_t i = 0; i < w.size(); ++i) {
    if (In(k, w[i])) return true;
    if (At(w, i, {"that's", "why"}) || At(w, i, {"that", "is", "why"}) || At(w, i, {"is", "why"}) ||
        At(w, i, {"after", "that"}) || At(w, i, {"from", "then", "on"}) || At(w, i, {"from", "that", "day"}) ||
        At(w, i, {"because", "of", "that"}) || At(w, i, {"now", "we"}) || At(w, i, {"we", "now"}) ||
        At(w, i, {"now", "every"}) || At(w, i, {"now", "always"}) || At(w, i, {"never", "again"}) ||
        At(w, i, {"to", "this", "day"}) || At(w, i, {"still", "our"}) || At(w, i, {"in", "the", "end"}))
      return true;
    // "now" telling what changed ("the two clubs now play"), not moving the
    // talk along ("let us now open chapter three", "now, some of you").
    static const WordSet kNotAfterNow = {"on", "open", "turn", "let", "let's", "to", "for", "some", "that", "is"};
    if (w[i] == "now" && i > 0 && w[i - 1] != "us" && i + 1 < w.size() && !In(kNotAfterNow, w[i + 1])) return true;
  }
  return false;
}

// The frame of a talk: greetings, thanks, sign-offs.
bool HasGreeting(const Words& w) {
  static const WordSet kOpeners = {"hello", "hi", "hey", "welcome", "morning", "afternoon", "evening", "thanks",
                                   "bye", "goodbye", "cheers", "alright", "okay", "ok", "right"};
  if (!w.empty() && (In(kOpeners, w[0]) || At(w, 0, {"good", "morning"}) || At(w, 0, {"good", "afternoon"}) ||
                     At(w, 0, {"good", "evening"}) || At(w, 0, {"thank", "you"})))
    return true;
  for (size_t i = 0; i < w.size(); ++i) {
    if (At(w, i, {"thank", "you"}) || At(w, i, {"thanks", "for"}) || At(w, i, {"thanks", "everyone"}) ||
        At(w, i, {"thanks", "everybody"}) || At(w, i, {"thank", "everyone"}) || At(w, i, {"see", "you"}) ||
        At(w, i, {"that's", "all"}) || At(w, i, {"that", "is", "all"}) || At(w, i, {"that's", "it"}) ||
        At(w, i, {"that", "is", "it"}) || At(w, i, {"that", "is", "everything"}) || At(w, i, {"take", "care"}) ||
        At(w, i, {"have", "a", "good"}) || At(w, i, {"have", "a", "great"}) || At(w, i, {"have", "a", "nice"}) ||
        At(w, i, {"welcome", "to"}) || At(w, i, {"welcome", "back"}) || At(w, i, {"next", "time"}) ||
        At(w, i, {"for", "joining"}) || At(w, i, {"for", "coming"}) || At(w, i, {"for", "listening"}) ||
        At(w, i, {"for", "watching"}) || At(w, i, {"for", "your", "time"}))
      return true;
  }
  return false;
}

// Talk about the talk and the organisation's calendar: requests, plans,
// places and dates, channels, administration.
int Logistics(const Words& w) {
  static const WordSet k = {
      "please",    "will",      "we'll",     "you'll",    "i'll",      "agenda",    "schedule",  "scheduled",
      "deadline",  "due",       "register",  "registration", "sign",   "book",      "booked",    "booking",
      "link",      "website",   "email",     "emails",    "online",    "newsletter", "chat",     "slides",
      "screen",    "microphone", "microphones", "muted",  "mute",      "calendar",  "room",
      "rota",      "rotas",     "reception", "parking",   "lunch",     "coffee",    "break",     "survey",
      "form",      "forms",     "sponsored", "sponsor",   "subscribe", "review",    "podcast",   "episode",
      "session",   "sessions",  "training",  "meeting",   "meetings",  "agenda",    "item",      "items",
      "update",    "updates",   "reminder",  "remember",  "available", "open",      "closes",    "closed",
      "desk",      "tickets",   "budget",    "plan",      "planned",   "target",    "targets",   "welcome",
      "questions", "office",    "hours",     "weekdays",  "invoice",   "fees",      "subscriptions",
      "membership", "volunteers", "volunteering", "apologies", "holiday", "requests", "notes", "forward",
      "upcoming",  "announce",  "announcement", "week's",  "month's",   "today's",   "tonight",   "tomorrow"};
  int n = static_cast<int>(std::count_if(w.begin(), w.end(), [](const std::string& x) { return In(k, x); }));
  for (size_t i = 0; i < w.size(); ++i) {
    if (At(w, i, {"next", "week"}) || At(w, i, {"next", "month"}) || At(w, i, {"next", "meeting"}) ||
        At(w, i, {"going", "to"}) || At(w, i, {"make", "sure"}) || At(w, i, {"moving", "on"}) ||
        At(w, i, {"by", "the", "end", "of"}) || At(w, i, {"sign", "up"}))
      ++n;
  }
  return n;
}

}  // namespace

StoryCues AnalyseStory(const std::string& text) {
  Words w = PlainWords(text);
  StoryCues c;
  c.past = PastVerbs(w);
  c.actor = HasActor(w);
  c.anchor = HasAnchor(w);
  c.stakes = Stakes(w);
  c.turn = HasTurn(w);
  c.resolution = HasResolution(w);
  c.greeting = HasGreeting(w);
  c.housekeeping = Logistics(w) + (c.greeting ? 2 : 0);
  if (c.past > 0) c.names.push_back("past_tense");
  if (c.anchor) c.names.push_back("time_anchor");
  if (c.stakes > 0) c.names.push_back("stakes");
  if (c.turn) c.names.push_back("turn");
  if (c.resolution) c.names.push_back("resolution");
  if (c.greeting) c.names.push_back("greeting");
  if (c.housekeeping > (c.greeting ? 2 : 0)) c.names.push_back("logistics");

  // Narration: events in the past (the strongest sign: a story is told in
  // the past tense), by people, placed in time, with something at stake,
  // a turn or a resolution; each class counts once or twice at most, so
  // no single word list can carry a sentence. Housekeeping subtracts: a
  // past-tense report of the agenda ("the minutes were approved") stays
  // housekeeping.
  double story = 0.45 * std::min(1.0, c.past / 2.0) + (c.actor ? 0.15 : 0.0) + (c.anchor ? 0.25 : 0.0) +
                 0.2 * std::min(1.0, c.stakes / 2.0) + (c.turn ? 0.15 : 0.0) + (c.resolution ? 0.2 : 0.0);
  double chores = 0.25 * std::min(3, c.housekeeping);
  c.narrative = std::clamp(story - chores, 0.0, 1.0);
  return c;
}

}  // namespace cutroom::analysis
