// Platform YAML -> flat dotted keys with origins, through the `base:` chain (see yaml_source.h).
#include "config/yaml_source.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace aimc::config::detail {

namespace fs = std::filesystem;

void fail(const std::string& where, const std::string& key, const std::string& what) {
  std::string msg = where;
  if (!msg.empty()) msg += ": ";
  if (!key.empty()) msg += key + ": ";
  throw ConfigError(msg + what);
}

// ---------------------------------------------------------------- key names

KeyNames::KeyNames(std::vector<std::string> leaves,
                   std::function<std::string(const std::string&)> expected)
    : leaves_(std::move(leaves)), expected_(std::move(expected)) {
  std::set<std::string> seen;
  for (const std::string& leaf : leaves_) {
    std::string p = leaf;
    for (auto dot = p.rfind('.'); dot != std::string::npos; dot = p.rfind('.')) {
      p.resize(dot);
      if (seen.insert(p).second) sections_.push_back(p);
    }
  }
}

bool KeyNames::is_leaf(const std::string& path) const {
  return std::find(leaves_.begin(), leaves_.end(), path) != leaves_.end();
}

bool KeyNames::is_section(const std::string& path) const {
  return std::find(sections_.begin(), sections_.end(), path) != sections_.end();
}

std::vector<std::string> KeyNames::children(const std::string& section) const {
  std::vector<std::string> out;
  const std::string prefix = section.empty() ? "" : section + ".";
  for (const std::string& full : leaves_) {
    if (full.compare(0, prefix.size(), prefix) != 0 || full.size() == prefix.size()) continue;
    std::string rest = full.substr(prefix.size());
    rest = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), rest) == out.end()) out.push_back(rest);
  }
  return out;
}

std::string KeyNames::section_expectation(const std::string& section) const {
  std::string s = "expected a mapping with keys";
  const auto names = children(section);
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", " : " ") + names[i];
  return s;
}

namespace {

// Levenshtein distance of a and b if it is at most `limit`, else limit + 1. The bound keeps a
// suggestion for a long mistyped (or garbage) key cheap: the length difference alone rules most
// candidates out, and a row whose every entry exceeds the limit ends the search.
std::size_t edit_distance_within(const std::string& a, const std::string& b, std::size_t limit) {
  const std::size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (gap > limit) return limit + 1;
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    std::size_t row_min = row[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diag = up;
      row_min = std::min(row_min, row[j]);
    }
    if (row_min > limit) return limit + 1;
  }
  return std::min(row[b.size()], limit + 1);
}

}  // namespace

std::string KeyNames::unknown_key_message(const std::string& path) const {
  const auto dot = path.rfind('.');
  const std::string parent = dot == std::string::npos ? "" : path.substr(0, dot);
  const std::string last = path.substr(dot == std::string::npos ? 0 : dot + 1);
  // A key this close to a valid one is taken for a typo of it.
  const std::size_t limit = std::max<std::size_t>(2, last.size() / 3);
  std::string best;
  std::size_t best_d = limit + 1;
  auto consider = [&](const std::string& cand) {
    const std::size_t d = edit_distance_within(path, cand, limit);
    if (d < best_d) best_d = d, best = cand;
  };
  for (const std::string& k : leaves_) consider(k);
  for (const std::string& s : sections_) consider(s);
  if (parent.empty()) consider(kBaseKey);  // `base:` is valid at the top level only
  std::string msg = "unknown key '" + path + "'";
  if (best_d <= limit) return msg + " (did you mean '" + best + "'?)";
  if (parent.empty() || is_section(parent)) {
    msg += "; valid keys " + (parent.empty() ? std::string("at the top level") : "under " + parent) + ":";
    auto names = children(parent);
    if (parent.empty()) names.push_back(kBaseKey);
    for (std::size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : " ") + names[i];
  }
  return msg;
}

// ---------------------------------------------------------------- one file

namespace {

std::string at(const std::string& file, const YAML::Mark& mark) {
  return mark.is_null() ? file : file + ":" + std::to_string(mark.line + 1);
}

const char* kind_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "a scalar";
    default: return "an undefined node";
  }
}

std::string join(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + "." + child;
}

// Writes the leaves of one file's tree into `out`, over what is there (a base's values).
void flatten(const YAML::Node& node, const std::string& path, const std::string& file,
             const KeyNames& names, RawValues& out) {
  if (!node.IsMap()) {
    std::string got = kind_name(node);
    if (node.IsScalar()) got += " '" + node.Scalar() + "'";
    fail(at(file, node.Mark()), path,
         (path.empty() ? std::string("expected a mapping at the top level")
                       : names.section_expectation(path)) +
             ", got " + got);
  }
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const YAML::Node& key_node = kv.first;
    const YAML::Node& value = kv.second;
    if (!key_node.IsScalar())
      fail(at(file, key_node.Mark()), path, std::string("expected a plain key, got ") + kind_name(key_node));
    const std::string full = join(path, key_node.Scalar());
    if (!seen.insert(key_node.Scalar()).second)
      fail(at(file, key_node.Mark()), full, "duplicate key");
    if (path.empty() && full == kBaseKey) continue;  // read before this file (read_layer)
    if (names.is_section(full)) {
      flatten(value, full, file, names, out);
    } else if (names.is_leaf(full)) {
      // An empty value's mark points at the next token, so blame the key's line instead.
      const YAML::Mark mark =
          value.IsNull() || value.Mark().is_null() ? key_node.Mark() : value.Mark();
      if (value.IsMap() || value.IsSequence())
        fail(at(file, mark), full, "expected " + names.expected(full) + ", got " + kind_name(value));
      RawValue rv;
      rv.is_null = value.IsNull() || !value.IsDefined();
      if (!rv.is_null) rv.text = value.Scalar();
      rv.origin.where = at(file, mark);
      rv.origin.text = rv.text;
      out[full] = rv;
    } else {
      fail(at(file, key_node.Mark()), "", names.unknown_key_message(full));
    }
  }
}

// "file:line" of the '---' that starts a second document whose content yaml-cpp marks at `mark`:
// the nearest marker line at or before it (the last line for a trailing '---') and after the first
// document's content at `first` (which may follow a '---' of its own).
std::string second_document_at(const std::string& text, const std::string& file, const YAML::Mark& first,
                               const YAML::Mark& mark) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  auto is_marker = [](const std::string& l) {
    return l.compare(0, 3, "---") == 0 && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
  };
  const int last = static_cast<int>(lines.size()) - 1;
  const int lowest = first.is_null() ? 0 : first.line + 1;
  for (int i = mark.is_null() ? last : std::min(mark.line, last); i >= lowest; --i)
    if (is_marker(lines[static_cast<std::size_t>(i)])) return file + ":" + std::to_string(i + 1);
  return at(file, mark);
}

// yaml-cpp 0.7 accepts a quoted scalar that runs to the end of the input when the input ends with
// a newline (it folds the rest of the file into the value). Each quoted scalar's text is scanned
// from its opening quote (YAML's rules: '' in single quotes, a backslash escape in double quotes);
// one that never closes is refused at the line of its quote.
bool quote_closes(const std::string& text, std::size_t open) {
  const char q = text[open];
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (q == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == q) {
      if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;
      } else {
        return true;
      }
    }
  }
  return false;
}

void check_quotes(const YAML::Node& node, const std::string& path, const std::string& text,
                  std::size_t bom, const std::string& file) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      check_quotes(kv.first, path, text, bom, file);
      check_quotes(kv.second, kv.first.IsScalar() ? join(path, kv.first.Scalar()) : path, text, bom, file);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) check_quotes(item, path, text, bom, file);
  } else if (node.IsScalar() && node.Tag() == "!" && !node.Mark().is_null()) {
    // yaml-cpp counts positions in the text after a UTF-8 byte-order mark.
    const std::size_t open = static_cast<std::size_t>(node.Mark().pos) + bom;
    if (open < text.size() && (text[open] == '"' || text[open] == '\'') && !quote_closes(text, open))
      fail(at(file, node.Mark()), path,
           std::string("unterminated ") + (text[open] == '"' ? "double" : "single") +
               "-quoted string (it runs to the end of the file)");
  }
}

// The one YAML document of a platform file (a second one, after '---', is refused: it was
// silently ignored).
// Where each document's root node starts (a null mark for an empty document), as the parser
// reports the documents one by one.
class RootMarks : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> roots;
  void OnDocumentStart(const YAML::Mark&) override {
    roots.push_back(YAML::Mark::null_mark());
    pending_ = true;
  }
  void OnDocumentEnd() override { pending_ = false; }
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { root(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { root(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { root(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    root(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    root(m);
  }
  void OnMapEnd() override {}

 private:
  void root(const YAML::Mark& m) {
    if (pending_) roots.back() = m, pending_ = false;
  }
  bool pending_ = false;
};

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  // At most two documents are read: a platform file is one, and yaml-cpp 0.7's LoadAll never ends
  // on a document that starts with a stray ',' (its parser reports one empty document after
  // another without consuming the token, and LoadAll keeps them all: 1.5 GB in 10 s for the 30
  // bytes ",inks: tiny\n...", found by the config fuzzer).
  YAML::Node root;
  RootMarks marks;
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    std::size_t documents = 0;
    while (documents < 2 && parser.HandleNextDocument(marks)) ++documents;
    if (documents == 0) return YAML::Node();
    if (documents == 1) root = YAML::Load(text);  // the first document, as a node
  } catch (const YAML::Exception& e) {
    std::string msg = "YAML syntax error: " + e.msg;
    if (!e.mark.is_null()) msg += " (column " + std::to_string(e.mark.column + 1) + ")";
    fail(at(file, e.mark), "", msg);
  }
  if (marks.roots.size() > 1)
    fail(second_document_at(text, file, marks.roots[0], marks.roots[1]), "",
         "the file holds more than one YAML document (a second one starts here); a platform file is one "
         "document");
  const std::size_t bom = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  check_quotes(root, "", text, bom, file);
  return root;
}

// A whole file as text. On failure, `why` says what went wrong ("cannot open file (reason)" or
// "cannot read file") and `reason` the bare reason, for the base's message.
bool read_text(const std::string& path, std::string& text, std::string& why, std::string& reason) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    reason = "it is a folder";
    why = "cannot open file (" + reason + ")";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    reason = std::strerror(errno);
    why = "cannot open file (" + reason + ")";
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) {
    reason = "read error";
    why = "cannot read file";
    return false;
  }
  text = s.str();
  return true;
}

// ---------------------------------------------------------------- the base chain

// The files being read, outermost first: how messages name them, and what identifies them
// (canonical paths, so that "a/../b.yaml" and a symbolic link are the same file in a cycle).
struct Chain {
  const KeyNames& names;
  std::vector<std::string> shown;
  std::vector<fs::path> identity;
};

fs::path identity_of(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(path, ec);
  return ec ? fs::path(path).lexically_normal() : p;
}

void read_layer(const std::string& text, const std::string& file, Chain& chain, RawValues& values);

// Reads the base a file names (value of its `base:` key) into `values`.
void read_base(const YAML::Node& value, const YAML::Mark& key_mark, const std::string& file,
               Chain& chain, RawValues& values) {
  const std::string where = at(file, value.IsScalar() ? value.Mark() : key_mark);
  if (!value.IsScalar() || value.Scalar().empty()) {
    std::string got = value.IsScalar() ? "an empty string" : kind_name(value);
    fail(where, kBaseKey,
         "expected the file name of a base platform (relative to this file's folder), got " + got);
  }
  const fs::path written = value.Scalar();
  const std::string path = (written.is_absolute() ? written : fs::path(file).parent_path() / written)
                               .lexically_normal()
                               .string();
  const fs::path id = identity_of(path);
  const auto loop = std::find(chain.identity.begin(), chain.identity.end(), id);
  if (loop != chain.identity.end()) {
    std::string cycle;
    for (auto i = static_cast<std::size_t>(loop - chain.identity.begin()); i < chain.shown.size(); ++i)
      cycle += chain.shown[i] + " -> ";
    fail(where, kBaseKey, "cycle of bases: " + cycle + path);
  }
  std::string text, why, reason;
  if (!read_text(path, text, why, reason))
    fail(where, kBaseKey,
         "cannot read the base '" + value.Scalar() + "'" +
             (path != value.Scalar() ? " (looked for " + path + ")" : "") + ": " + reason);
  chain.shown.push_back(path);
  chain.identity.push_back(id);
  read_layer(text, path, chain, values);
  chain.shown.pop_back();
  chain.identity.pop_back();
}

// One file: its base (if any) first, then its own keys over it.
void read_layer(const std::string& text, const std::string& file, Chain& chain, RawValues& values) {
  const YAML::Node root = parse_yaml(text, file);
  if (!root.IsDefined() || root.IsNull()) return;  // an empty file sets nothing
  if (root.IsMap()) {
    bool found = false;
    for (const auto& kv : root) {
      if (!kv.first.IsScalar() || kv.first.Scalar() != kBaseKey) continue;
      if (found) fail(at(file, kv.first.Mark()), kBaseKey, "duplicate key");
      found = true;
      read_base(kv.second, kv.first.Mark(), file, chain, values);
    }
  }
  flatten(root, "", file, chain.names, values);
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

void read_platform_text(const std::string& text, const std::string& name, const KeyNames& names,
                        RawValues& values) {
  Chain chain{names, {name}, {identity_of(name)}};
  read_layer(text, name, chain, values);
}

void read_platform_file(const std::string& path, const KeyNames& names, RawValues& values) {
  std::string text, why, reason;
  if (!read_text(path, text, why, reason)) fail(path, "", why);
  read_platform_text(text, path, names, values);
}

void apply_override(const std::string& ov, const KeyNames& names, RawValues& values) {
  const std::string where = "--set " + ov;
  const auto eq = ov.find('=');
  if (eq == std::string::npos) fail(where, "", "expected key=value");
  const std::string key = trim(ov.substr(0, eq));
  std::string value = trim(ov.substr(eq + 1));
  if (key.empty()) fail(where, "", "expected key=value, the key is empty");
  if (key == kBaseKey)
    fail(where, key,
         "names a file's base platform, not a setting; write `base:` in a YAML file and pass that "
         "file to --platform");
  if (names.is_section(key))
    fail(where, key, "is a section, not a value; set one of its keys (" +
                         names.section_expectation(key).substr(std::strlen("expected a mapping with keys ")) + ")");
  if (!names.is_leaf(key)) fail(where, "", names.unknown_key_message(key));
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
    value = value.substr(1, value.size() - 2);
  RawValue rv;
  rv.text = value;
  rv.is_null = value.empty();
  rv.origin.where = where;
  rv.origin.text = value;
  values[key] = rv;
}

}  // namespace aimc::config::detail
