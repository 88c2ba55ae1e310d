#include "analysis/retention/import.h"

#include "core/utf8.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

namespace cutroom::analysis {
namespace {

using Json = nlohmann::json;

// Whole seconds are what exports round times to, so a last time up to this
// far past the duration is the end of the video, not an error.
constexpr double kTimeSlack_s = 1.0;
// Above this a bare number cannot be a ratio (a position never exceeds 1,
// and a share of 1.5 is already heavy re-watching), so the column is in
// percent.
constexpr double kPercentThreshold = 1.5;
// Cells quoted in messages are cut here: a message is for a person, and a
// broken upload can put a whole file in one cell.
constexpr size_t kMaxQuoted = 40;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string Quote(std::string_view s) {
  if (s.size() <= kMaxQuoted) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, kMaxQuoted)) + "...'";
}

std::string JoinQuoted(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + Quote(n);
  return out.empty() ? "none" : out;
}

// ASCII spaces plus the no-break spaces that French and German Studio
// locales put before '%'.
std::string_view Trim(std::string_view s) {
  while (true) {
    if (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
      s.remove_prefix(1);
    } else if (s.starts_with("\xC2\xA0")) {
      s.remove_prefix(2);
    } else if (s.starts_with("\xE2\x80\xAF")) {
      s.remove_prefix(3);
    } else {
      break;
    }
  }
  while (true) {
    if (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
      s.remove_suffix(1);
    } else if (s.ends_with("\xC2\xA0")) {
      s.remove_suffix(2);
    } else if (s.ends_with("\xE2\x80\xAF")) {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Lowercase, trimmed, inner runs of spaces as one: how headers are compared.
std::string NormalizeHeader(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : Lower(Trim(s))) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// --- Encodings ---


// `bytes` is the UTF-16 text after its byte order mark; `offset` is where
// that starts in the body, so messages give body offsets.
Result<std::string> Utf16ToUtf8(std::string_view bytes, bool big_endian, size_t offset) {
  const char* name = big_endian ? "UTF-16 BE" : "UTF-16 LE";
  if ((offset + bytes.size()) % 2 != 0) {
    return Status::InvalidArgument(std::string("the body is ") + name + " but has an odd number of bytes (" +
                                   std::to_string(offset + bytes.size()) + "): it was cut short");
  }
  auto unit = [&](size_t i) -> uint32_t {
    auto b0 = static_cast<uint8_t>(bytes[i]), b1 = static_cast<uint8_t>(bytes[i + 1]);
    return big_endian ? (uint32_t{b0} << 8 | b1) : (uint32_t{b1} << 8 | b0);
  };
  std::string out;
  out.reserve(bytes.size() / 2);
  for (size_t i = 0; i < bytes.size(); i += 2) {
    uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      uint32_t lo = i + 3 < bytes.size() ? unit(i + 2) : 0;
      if (lo < 0xDC00 || lo > 0xDFFF) {
        return Status::InvalidArgument(std::string("the body is ") + name + " with a broken surrogate pair at byte " +
                                       std::to_string(offset + i));
      }
      AppendUtf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
      i += 2;
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      return Status::InvalidArgument(std::string("the body is ") + name + " with a broken surrogate pair at byte " +
                                     std::to_string(offset + i));
    } else {
      AppendUtf8(out, u);
    }
  }
  return out;
}

// The body as UTF-8 text, without a byte order mark.
Result<std::string> DecodeText(std::string_view body, std::vector<std::string>& notes) {
  if (body.starts_with("\xEF\xBB\xBF")) return std::string(body.substr(3));
  if (body.starts_with("\xFF\xFE") || body.starts_with("\xFE\xFF")) {
    bool be = body[0] == '\xFE';
    notes.push_back(be ? "decoded from UTF-16 BE" : "decoded from UTF-16 LE");
    return Utf16ToUtf8(body.substr(2), be, 2);
  }
  // UTF-8 text never holds a NUL, so an ASCII first character next to one
  // is UTF-16 whose writer left out the byte order mark.
  if (body.size() >= 2 && (body[0] == '\0') != (body[1] == '\0')) {
    bool be = body[0] == '\0';
    notes.push_back(be ? "decoded from UTF-16 BE (no byte order mark)" : "decoded from UTF-16 LE (no byte order mark)");
    return Utf16ToUtf8(body, be, 0);
  }
  return std::string(body);
}

// --- Numbers ---

struct CellNumber {
  double value = 0;
  bool percent = false;  // written with a '%'
};

// A number as people and spreadsheets write it: spaces, a leading '+', a
// trailing '%', and (when the separator allows) a decimal comma. Returns
// nullopt for anything else; the value may be NaN or infinite ("nan",
// "1e999"), which callers refuse with their own message.
std::optional<CellNumber> ParseCellNumber(std::string_view text, bool decimal_comma) {
  CellNumber n;
  std::string_view s = Trim(text);
  if (s.ends_with('%')) {
    n.percent = true;
    s = Trim(s.substr(0, s.size() - 1));
  }
  if (s.starts_with('+')) s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  std::string buf(s);
  if (decimal_comma && std::count(buf.begin(), buf.end(), ',') == 1 && buf.find('.') == std::string::npos) {
    buf[buf.find(',')] = '.';
  }
  const char* end = buf.data() + buf.size();
  auto [ptr, ec] = std::from_chars(buf.data(), end, n.value);
  if (ptr != end) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves the value alone on overflow; it is refused as not
    // finite, underflow as what it is, zero.
    n.value = std::abs(std::strtod(buf.c_str(), nullptr)) > 1 ? INFINITY : 0;
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return n;
}

// "35", "0:35", "1:02:03", "0:35.5" as seconds; minutes and seconds after
// the first field must be under 60.
std::optional<double> ParseTimestamp(std::string_view text) {
  std::string_view s = Trim(text);
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t colon = s.find(':', start);
    parts.push_back(s.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3) return std::nullopt;
  double total = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    bool last = i + 1 == parts.size();
    if (p.empty() || !std::all_of(p.begin(), p.end(), [&](char c) { return (c >= '0' && c <= '9') || (last && c == '.'); })) {
      return std::nullopt;
    }
    double v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || ptr != p.data() + p.size()) return std::nullopt;
    if (i > 0 && v >= 60) return std::nullopt;
    total = total * 60 + v;
  }
  return total;
}

// A JSON cell: a number, or a string holding one (the API's older clients
// return every cell as a string).
Result<double> JsonNumber(const Json& v, const std::string& where) {
  double d = 0;
  if (v.is_number()) {
    d = v.get<double>();
  } else if (v.is_string()) {
    auto n = ParseCellNumber(v.get_ref<const std::string&>(), false);
    if (!n || n->percent) return Status::InvalidArgument(where + ": " + Quote(v.get<std::string>()) + " is not a number");
    d = n->value;
  } else {
    return Status::InvalidArgument(where + ": " + v.dump() + " is not a number");
  }
  if (!std::isfinite(d)) return Status::InvalidArgument(where + ": " + v.dump() + " is not a finite number");
  return d;
}

// --- Checks shared by every format ---

// One point in the input's order, already in ratio units, with what the
// input said for messages.
struct Row {
  std::string where;  // "line 14", "rows[12]", "points[3]"
  double pos = 0;
  double share = 0;
  std::optional<double> rel;
  std::string pos_text, share_text, rel_text;
};

struct ColumnNames {
  std::string pos, share, rel;
};

std::string At(const Row& r, const std::string& column) { return r.where + ", column '" + column + "'"; }

// Shares and relative values in range, positions increasing, at least two
// points; on success moves the points into `out`. `found` says what was
// counted, for the too-few message.
Status CheckRows(const std::vector<Row>& rows, const ColumnNames& cols, const std::string& found,
                 RetentionImport& out) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (r.share < 0) {
      return Status::InvalidArgument(At(r, cols.share) + ": " + Quote(r.share_text) + " is negative");
    }
    if (r.share > kMaxRetentionShare) {
      return Status::InvalidArgument(At(r, cols.share) + ": " + Quote(r.share_text) + " is over " +
                                     Num(kMaxRetentionShare) + " times the starting audience; is the unit right?");
    }
    if (r.rel && (*r.rel < 0 || *r.rel > 1)) {
      return Status::InvalidArgument(At(r, cols.rel) + ": " + Quote(r.rel_text) + " is outside 0..1 (0..100%)");
    }
    if (i > 0 && r.pos <= rows[i - 1].pos) {
      const Row& p = rows[i - 1];
      return Status::InvalidArgument(
          At(r, cols.pos) + ": " + Quote(r.pos_text) +
          (r.pos == p.pos ? " repeats the position of " + p.where
                          : " comes before " + Quote(p.pos_text) + " (" + p.where + "); positions must increase"));
    }
  }
  if (rows.size() < 2) {
    return Status::InvalidArgument("need at least 2 points, found " + std::to_string(rows.size()) + " " + found);
  }
  for (const Row& r : rows) {
    out.points.emplace_back(r.pos, r.share);
    if (r.rel) out.relative.emplace_back(r.pos, *r.rel);
  }
  return Status::Ok();
}

// Seconds to a ratio of duration_s; within kTimeSlack_s past the end is the
// end.
Result<double> SecondsToRatio(double t, const std::string& where, const std::string& text, double duration_s,
                              bool& clamped) {
  if (t < 0) return Status::InvalidArgument(where + ": " + Quote(text) + " is negative");
  if (t > duration_s + kTimeSlack_s) {
    return Status::InvalidArgument(where + ": " + Quote(text) + " is past the end of the video (" + Num(duration_s) +
                                   " s)");
  }
  if (t > duration_s) clamped = true;
  return std::min(1.0, t / duration_s);
}

Status NeedDuration(double duration_s, const std::string& what) {
  if (duration_s > 0 && std::isfinite(duration_s)) return Status::Ok();
  return Status::InvalidArgument(what + " are times, and the video's duration is unknown (" + Num(duration_s) +
                                 " s), so they cannot be turned into positions");
}

// --- YouTube Analytics reports.query ---

Result<RetentionImport> ParseYouTubeAnalytics(const Json& j, RetentionImport out) {
  out.format = "youtube_analytics";
  const Json& headers = j["columnHeaders"];
  if (!headers.is_array()) return Status::InvalidArgument("'columnHeaders' is not an array");
  std::vector<std::string> names;
  std::optional<size_t> pos_i, share_i, rel_i, video_i;
  for (size_t i = 0; i < headers.size(); ++i) {
    const Json& h = headers[i];
    if (!h.is_object() || !h.contains("name") || !h["name"].is_string()) {
      return Status::InvalidArgument("columnHeaders[" + std::to_string(i) + "] has no name");
    }
    names.push_back(h["name"].get<std::string>());
    std::string n = Lower(names.back());
    if (n == "elapsedvideotimeratio" && !pos_i) pos_i = i;
    if (n == "audiencewatchratio" && !share_i) share_i = i;
    if (n == "relativeretentionperformance" && !rel_i) rel_i = i;
    if (n == "video" && !video_i) video_i = i;
  }
  if (!pos_i || !share_i) {
    return Status::InvalidArgument(std::string("columnHeaders has no '") +
                                   (pos_i ? "audienceWatchRatio" : "elapsedVideoTimeRatio") +
                                   "' column (found: " + JoinQuoted(names) +
                                   "); query with dimensions=elapsedVideoTimeRatio and metrics=audienceWatchRatio");
  }
  ColumnNames cols{names[*pos_i], names[*share_i], rel_i ? names[*rel_i] : ""};

  if (!j.contains("rows") || j["rows"].is_null()) {
    return Status::InvalidArgument(
        "need at least 2 points, found none: the table has no rows (YouTube leaves them out when the video has too "
        "few views for a retention report)");
  }
  const Json& rows = j["rows"];
  if (!rows.is_array()) return Status::InvalidArgument("'rows' is not an array");

  std::vector<Row> parsed;
  std::set<std::string> videos;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string where = "rows[" + std::to_string(i) + "]";
    const Json& r = rows[i];
    if (!r.is_array()) return Status::InvalidArgument(where + " is not an array of cells");
    for (size_t c : {*pos_i, *share_i}) {
      if (c >= r.size()) {
        return Status::InvalidArgument(where + ", column '" + names[c] + "': missing (the row has " +
                                       std::to_string(r.size()) + " cells, columnHeaders " +
                                       std::to_string(names.size()) + ")");
      }
    }
    Row row;
    row.where = where;
    CUTROOM_ASSIGN_OR_RETURN(row.pos, JsonNumber(r[*pos_i], where + ", column '" + cols.pos + "'"));
    CUTROOM_ASSIGN_OR_RETURN(row.share, JsonNumber(r[*share_i], where + ", column '" + cols.share + "'"));
    row.pos_text = r[*pos_i].is_string() ? r[*pos_i].get<std::string>() : r[*pos_i].dump();
    row.share_text = r[*share_i].is_string() ? r[*share_i].get<std::string>() : r[*share_i].dump();
    if (row.pos < 0 || row.pos > 1) {
      return Status::InvalidArgument(At(row, cols.pos) + ": " + Quote(row.pos_text) + " is outside 0..1");
    }
    if (rel_i && *rel_i < r.size() && !r[*rel_i].is_null()) {
      CUTROOM_ASSIGN_OR_RETURN(double rel, JsonNumber(r[*rel_i], where + ", column '" + cols.rel + "'"));
      row.rel = rel;
      row.rel_text = r[*rel_i].dump();
    }
    if (video_i && *video_i < r.size()) videos.insert(r[*video_i].is_string() ? r[*video_i].get<std::string>()
                                                                               : r[*video_i].dump());
    parsed.push_back(std::move(row));
  }
  if (videos.size() > 1) {
    return Status::InvalidArgument("the table holds " + std::to_string(videos.size()) + " videos (" +
                                   JoinQuoted({videos.begin(), std::next(videos.begin(), 2)}) +
                                   ", ...); query one video (filters=video==ID)");
  }
  // The API orders rows by the query's `sort`, which a caller may leave out.
  if (!std::is_sorted(parsed.begin(), parsed.end(), [](const Row& a, const Row& b) { return a.pos < b.pos; })) {
    std::stable_sort(parsed.begin(), parsed.end(), [](const Row& a, const Row& b) { return a.pos < b.pos; });
    out.notes.push_back("rows sorted by " + cols.pos + " (the query had no sort)");
  }
  CUTROOM_RETURN_IF_ERROR(CheckRows(parsed, cols, "in 'rows'", out));
  return out;
}

// --- {"points": [[t, share], ...]} ---

Result<RetentionImport> ParsePoints(const Json& j, double duration_s, RetentionImport out) {
  out.format = "points";
  const Json& points = j["points"];
  if (!points.is_array()) return Status::InvalidArgument("'points' is not an array of [t, share] pairs");

  std::optional<bool> seconds;
  if (j.contains("unit")) {
    const Json& u = j["unit"];
    std::string unit = u.is_string() ? Lower(u.get<std::string>()) : u.dump();
    if (unit == "s" || unit == "sec" || unit == "seconds") {
      seconds = true;
    } else if (unit == "ratio") {
      seconds = false;
    } else {
      return Status::InvalidArgument("'unit' is " + u.dump() + "; expected \"s\" or \"ratio\"");
    }
  }
  bool percent = false;
  if (j.contains("share_unit")) {
    const Json& u = j["share_unit"];
    std::string unit = u.is_string() ? Lower(u.get<std::string>()) : u.dump();
    if (unit == "percent" || unit == "%") {
      percent = true;
    } else if (unit != "ratio") {
      return Status::InvalidArgument("'share_unit' is " + u.dump() + "; expected \"ratio\" or \"percent\"");
    }
  }

  ColumnNames cols{"t", "share", ""};
  std::vector<Row> parsed;
  std::vector<double> ts;
  for (size_t i = 0; i < points.size(); ++i) {
    std::string where = "points[" + std::to_string(i) + "]";
    const Json& p = points[i];
    if (!p.is_array() || p.size() < 2) return Status::InvalidArgument(where + " is not a [t, share] pair");
    Row row;
    row.where = where;
    CUTROOM_ASSIGN_OR_RETURN(double t, JsonNumber(p[0], where + ", column 't'"));
    CUTROOM_ASSIGN_OR_RETURN(row.share, JsonNumber(p[1], where + ", column 'share'"));
    row.pos_text = p[0].dump();
    row.share_text = p[1].dump();
    if (percent) row.share /= 100;
    ts.push_back(t);
    parsed.push_back(std::move(row));
  }
  if (!seconds) {
    seconds = std::any_of(ts.begin(), ts.end(), [](double t) { return t > 1; });
    if (*seconds) out.notes.push_back("t read as seconds (a t exceeds 1 and no \"unit\" was given)");
  }
  if (*seconds) CUTROOM_RETURN_IF_ERROR(NeedDuration(duration_s, "the points' t values"));
  bool clamped = false;
  for (size_t i = 0; i < parsed.size(); ++i) {
    Row& row = parsed[i];
    if (*seconds) {
      CUTROOM_ASSIGN_OR_RETURN(row.pos, SecondsToRatio(ts[i], At(row, "t"), row.pos_text, duration_s, clamped));
    } else if (ts[i] < 0 || ts[i] > 1) {
      return Status::InvalidArgument(At(row, "t") + ": " + Quote(row.pos_text) + " is outside 0..1");
    } else {
      row.pos = ts[i];
    }
  }
  if (clamped) out.notes.push_back("times within " + Num(kTimeSlack_s) + " s past the duration taken as the end");
  CUTROOM_RETURN_IF_ERROR(CheckRows(parsed, cols, "in 'points'", out));
  return out;
}

Result<RetentionImport> ParseJson(const std::string& text, double duration_s, RetentionImport out) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1,
    // column 9: ..."; a number too large for a double throws out_of_range.
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return Status::InvalidArgument("the body looks like JSON but does not parse: " + what);
  }
  try {
    if (!j.is_object()) {
      return Status::InvalidArgument("unknown format: the JSON body is " + std::string(j.type_name()) +
                                     ", not an object with 'columnHeaders' and 'rows' (YouTube Analytics) or "
                                     "'points'");
    }
    if (j.contains("error") && !j.contains("columnHeaders")) {
      const Json& e = j["error"];
      std::string msg = e.is_object() && e.contains("message") && e["message"].is_string()
                            ? e["message"].get<std::string>()
                            : e.dump();
      return Status::InvalidArgument("the body is an API error response, not a report: " + msg);
    }
    if (j.contains("columnHeaders")) return ParseYouTubeAnalytics(j, std::move(out));
    if (j.contains("points")) return ParsePoints(j, duration_s, std::move(out));
    std::vector<std::string> keys;
    for (const auto& [k, v] : j.items()) keys.push_back(k);
    return Status::InvalidArgument(
        "unknown format: a JSON object without 'columnHeaders' (a YouTube Analytics report) or 'points'; keys "
        "found: " +
        JoinQuoted(keys));
  } catch (const Json::exception& e) {
    // The checks above keep nlohmann from throwing; this is the adapter's
    // backstop so a library exception never crosses the module boundary.
    return Status::InvalidArgument(std::string("unreadable JSON report: ") + e.what());
  }
}

// --- CSV ---

struct Record {
  int line = 0;  // where the record starts, 1-based
  std::vector<std::string> cells;
};

bool Blank(const Record& r) {
  return std::all_of(r.cells.begin(), r.cells.end(), [](const std::string& c) { return Trim(c).empty(); });
}

// The separator of the header line: the most frequent of tab, semicolon
// and comma outside quotes (ties in that order); comma when it has none,
// so a one-column header still reads as one column.
char DetectSeparator(std::string_view text) {
  size_t tabs = 0, semis = 0, commas = 0;
  bool quoted = false, seen = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n' || c == '\r') {
      if (seen) break;  // blank lines before the header do not count
      continue;
    }
    if (c != ' ' && c != '\t') seen = true;
    tabs += c == '\t';
    semis += c == ';';
    commas += c == ',';
  }
  if (tabs > 0 && tabs >= semis && tabs >= commas) return '\t';
  if (semis > 0 && semis >= commas) return ';';
  return ',';
}

// RFC 4180 records: quoted fields with "" escapes may hold separators and
// line breaks; text after a closing quote is kept; \n, \r\n and \r end a
// line.
Result<std::vector<Record>> SplitCsv(std::string_view text, char sep) {
  std::vector<Record> out;
  Record cur{1, {}};
  std::string field;
  bool quoted = false, was_quoted = false;
  int line = 1, quote_line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool newline = c == '\n' || c == '\r';
    if (newline && c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (newline) ++line;
        field += newline ? '\n' : c;
      }
      continue;
    }
    if (c == '"' && !was_quoted && Trim(field).empty()) {
      quoted = was_quoted = true;
      quote_line = line;
      field.clear();
    } else if (c == sep) {
      cur.cells.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (newline) {
      cur.cells.push_back(std::move(field));
      out.push_back(std::move(cur));
      cur = Record{++line, {}};
      field.clear();
      was_quoted = false;
    } else {
      field += c;
    }
  }
  if (quoted) return Status::InvalidArgument("line " + std::to_string(quote_line) + ": a quoted field is never closed");
  if (!field.empty() || !cur.cells.empty() || was_quoted) {
    cur.cells.push_back(std::move(field));
    out.push_back(std::move(cur));
  }
  return out;
}

const std::vector<std::string>& PositionHeaders() {
  static const std::vector<std::string> k = {"video position (%)",       "video position",        "position",
                                             "elapsed video time ratio", "elapsedvideotimeratio", "time"};
  return k;
}
const std::vector<std::string>& RetentionHeaders() {
  static const std::vector<std::string> k = {
      "absolute audience retention (%)", "absolute audience retention", "audience retention (%)",
      "audience retention",              "retention",                   "audience watch ratio",
      "audiencewatchratio",              "% of viewers"};
  return k;
}
const std::vector<std::string>& RelativeHeaders() {
  static const std::vector<std::string> k = {"relative audience retention (%)", "relative audience retention",
                                             "relative retention performance", "relativeretentionperformance"};
  return k;
}

// The first header matching the earliest name in `names`.
std::optional<size_t> FindColumn(const std::vector<std::string>& normalized, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    auto it = std::find(normalized.begin(), normalized.end(), n);
    if (it != normalized.end()) return static_cast<size_t>(it - normalized.begin());
  }
  return std::nullopt;
}

// One column's cells of the data lines, parsed as numbers; `percent` when
// the column is in percent by the rule in import.h.
struct NumberColumn {
  std::vector<double> values;
  bool percent = false;
};

Result<NumberColumn> ReadNumberColumn(const std::vector<const Record*>& data, size_t col, const std::string& name,
                                      bool decimal_comma) {
  NumberColumn out;
  for (const Record* r : data) {
    std::string where = "line " + std::to_string(r->line) + ", column '" + name + "'";
    const std::string& cell = r->cells[col];
    if (Trim(cell).empty()) return Status::InvalidArgument(where + ": the cell is empty");
    auto n = ParseCellNumber(cell, decimal_comma);
    if (!n) return Status::InvalidArgument(where + ": " + Quote(Trim(cell)) + " is not a number");
    if (!std::isfinite(n->value)) {
      return Status::InvalidArgument(where + ": " + Quote(Trim(cell)) + " is not a finite number");
    }
    out.percent = out.percent || n->percent || n->value > kPercentThreshold;
    out.values.push_back(n->value);
  }
  return out;
}

Result<RetentionImport> ParseCsv(const std::string& text, double duration_s, RetentionImport out) {
  out.format = "studio_csv";
  const char sep = DetectSeparator(text);
  CUTROOM_ASSIGN_OR_RETURN(std::vector<Record> records, SplitCsv(text, sep));
  auto header_it = std::find_if(records.begin(), records.end(), [](const Record& r) { return !Blank(r); });
  if (header_it == records.end()) return Status::InvalidArgument("the body is empty");
  const Record& header = *header_it;

  std::vector<std::string> found, normalized;
  for (const auto& h : header.cells) {
    found.emplace_back(Trim(h));
    normalized.push_back(NormalizeHeader(h));
  }
  auto pos_i = FindColumn(normalized, PositionHeaders());
  auto share_i = FindColumn(normalized, RetentionHeaders());
  auto rel_i = FindColumn(normalized, RelativeHeaders());
  const std::string header_line = "line " + std::to_string(header.line);
  if (!pos_i && !share_i) {
    return Status::InvalidArgument("unknown format: not JSON, and " + header_line +
                                   " is not a retention table header (found: " + JoinQuoted(found) +
                                   "); expected a position column such as 'Video position (%)' and a retention "
                                   "column such as 'Audience retention (%)'");
  }
  if (!pos_i) {
    return Status::InvalidArgument(header_line + ": no position column among the headers " + JoinQuoted(found) +
                                   "; expected one of " + JoinQuoted(PositionHeaders()));
  }
  if (!share_i) {
    return Status::InvalidArgument(header_line + ": no retention column among the headers " + JoinQuoted(found) +
                                   "; expected one of " + JoinQuoted(RetentionHeaders()));
  }
  ColumnNames cols{found[*pos_i], found[*share_i], rel_i ? found[*rel_i] : ""};
  out.notes.push_back(std::string("separator: ") + (sep == '\t' ? "tab" : sep == ';' ? "semicolon" : "comma"));

  std::vector<const Record*> data;
  for (auto it = std::next(header_it); it != records.end(); ++it) {
    const Record& r = *it;
    if (Blank(r)) continue;
    std::string first = NormalizeHeader(r.cells[0]);
    if (first == "total" || first == "totals") {
      out.notes.push_back("skipped the summary row on line " + std::to_string(r.line));
      continue;
    }
    for (size_t c : {*pos_i, *share_i}) {
      if (c >= r.cells.size()) {
        return Status::InvalidArgument("line " + std::to_string(r.line) + ", column '" + found[c] +
                                       "': missing (the line has " + std::to_string(r.cells.size()) +
                                       " fields, the header " + std::to_string(found.size()) + ")");
      }
    }
    data.push_back(&r);
  }

  // A decimal comma cannot be told from a separator in comma-separated
  // files, so it is read only where the separator is something else.
  const bool decimal_comma = sep != ',';
  std::vector<Row> rows(data.size());
  for (size_t k = 0; k < data.size(); ++k) {
    rows[k].where = "line " + std::to_string(data[k]->line);
    rows[k].pos_text = Trim(data[k]->cells[*pos_i]);
    rows[k].share_text = Trim(data[k]->cells[*share_i]);
  }

  // Positions: timestamps, percent or ratio, decided for the whole column.
  const bool times = std::any_of(rows.begin(), rows.end(),
                                 [](const Row& r) { return r.pos_text.find(':') != std::string::npos; });
  if (times) {
    CUTROOM_RETURN_IF_ERROR(NeedDuration(duration_s, "the positions in column '" + cols.pos + "'"));
    bool clamped = false;
    for (Row& r : rows) {
      if (r.pos_text.empty()) return Status::InvalidArgument(At(r, cols.pos) + ": the cell is empty");
      auto t = ParseTimestamp(r.pos_text);
      if (!t) return Status::InvalidArgument(At(r, cols.pos) + ": " + Quote(r.pos_text) + " is not a time (m:ss or h:mm:ss)");
      CUTROOM_ASSIGN_OR_RETURN(r.pos, SecondsToRatio(*t, At(r, cols.pos), r.pos_text, duration_s, clamped));
    }
    out.notes.push_back("positions in '" + cols.pos + "' read as times of a " + Num(duration_s) + " s video");
    if (clamped) out.notes.push_back("times within " + Num(kTimeSlack_s) + " s past the duration taken as the end");
  } else {
    CUTROOM_ASSIGN_OR_RETURN(NumberColumn pos, ReadNumberColumn(data, *pos_i, cols.pos, decimal_comma));
    for (size_t k = 0; k < rows.size(); ++k) {
      double v = pos.values[k];
      if (v < 0 || v > (pos.percent ? 100 : 1)) {
        return Status::InvalidArgument(At(rows[k], cols.pos) + ": " + Quote(rows[k].pos_text) + " is outside " +
                                       (pos.percent ? "0..100%" : "0..1"));
      }
      rows[k].pos = pos.percent ? v / 100 : v;
    }
    out.notes.push_back("positions in '" + cols.pos + "' read as " + (pos.percent ? "percentages" : "ratios"));
  }

  CUTROOM_ASSIGN_OR_RETURN(NumberColumn share, ReadNumberColumn(data, *share_i, cols.share, decimal_comma));
  for (size_t k = 0; k < rows.size(); ++k) rows[k].share = share.percent ? share.values[k] / 100 : share.values[k];
  out.notes.push_back("shares in '" + cols.share + "' read as " + (share.percent ? "percentages" : "ratios"));

  if (rel_i) {
    // Relative values are optional per line: only the lines that give one.
    std::vector<const Record*> given;
    std::vector<size_t> at;
    for (size_t k = 0; k < data.size(); ++k) {
      if (*rel_i < data[k]->cells.size() && !Trim(data[k]->cells[*rel_i]).empty()) {
        given.push_back(data[k]);
        at.push_back(k);
      }
    }
    CUTROOM_ASSIGN_OR_RETURN(NumberColumn rel, ReadNumberColumn(given, *rel_i, cols.rel, decimal_comma));
    for (size_t g = 0; g < given.size(); ++g) {
      Row& r = rows[at[g]];
      r.rel = rel.percent ? rel.values[g] / 100 : rel.values[g];
      r.rel_text = Trim(given[g]->cells[*rel_i]);
    }
  }

  CUTROOM_RETURN_IF_ERROR(CheckRows(rows, cols, "data lines after the header on " + header_line, out));
  return out;
}

}  // namespace

Result<RetentionImport> ParseRetentionImport(std::string_view body, double duration_s) {
  if (body.size() > kMaxRetentionImportBytes) {
    return Status::InvalidArgument("the body is " + std::to_string(body.size()) + " bytes; retention imports are " +
                                   "limited to " + std::to_string(kMaxRetentionImportBytes / (1024 * 1024)) + " MB");
  }
  RetentionImport out;
  CUTROOM_ASSIGN_OR_RETURN(std::string text, DecodeText(body, out.notes));
  std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return Status::InvalidArgument("the body is empty");
  if (trimmed.front() == '{' || trimmed.front() == '[') return ParseJson(text, duration_s, std::move(out));
  return ParseCsv(text, duration_s, std::move(out));
}

}  // namespace cutroom::analysis
