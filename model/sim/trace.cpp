#include "sim/trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <ostream>
#include <sstream>
#include <stdexcept>

namespace aimc::sim {

int TraceSink::track(std::string_view name) {
  for (size_t i = 0; i < track_names_.size(); ++i) {
    if (track_names_[i] == name) return static_cast<int>(i);
  }
  if (track_names_.size() >= std::numeric_limits<uint16_t>::max()) {
    throw std::invalid_argument("TraceSink: too many tracks");
  }
  track_names_.emplace_back(name);
  return static_cast<int>(track_names_.size() - 1);
}

// ---------------------------------------------------------------------------------------------
ChromeTraceWriter::ChromeTraceWriter(uint64_t max_events) : TraceSink(true), max_events_(max_events) {}

void ChromeTraceWriter::set_metadata(std::string_view key, std::string_view value) {
  if (key == "truncated" || key == "max_events" || key == "dropped_events") {
    throw std::invalid_argument("ChromeTraceWriter: metadata key '" + std::string(key) +
                                "' is reserved");
  }
  for (auto& kv : metadata_) {
    if (kv.first == key) {
      kv.second = std::string(value);
      return;
    }
  }
  metadata_.emplace_back(std::string(key), std::string(value));
}

uint32_t ChromeTraceWriter::intern(std::string_view s) {
  auto it = string_ids_.find(s);
  if (it != string_ids_.end()) return it->second;
  strings_.emplace_back(s);
  const auto id = static_cast<uint32_t>(strings_.size() - 1);
  string_ids_.emplace(std::string_view(strings_.back()), id);
  return id;
}

bool ChromeTraceWriter::admit() {
  if (max_events_ != 0 && events_.size() >= max_events_) {
    ++dropped_;
    return false;
  }
  return true;
}

void ChromeTraceWriter::push(Type type, int track, std::string_view name, uint64_t t_ps,
                             uint64_t dur_ps, const TraceArg* args, size_t n_args) {
  if (track < 0 || track >= track_count()) {
    throw std::invalid_argument("ChromeTraceWriter: event '" + std::string(name) +
                                "' on unknown track " + std::to_string(track));
  }
  if (!admit()) return;
  if (n_args > std::numeric_limits<uint16_t>::max()) n_args = std::numeric_limits<uint16_t>::max();
  Event e{};
  e.t_ps = t_ps;
  e.dur_ps = dur_ps;
  e.name = intern(name);
  e.first_arg = static_cast<uint32_t>(args_.size());
  e.n_args = static_cast<uint16_t>(n_args);
  e.track = static_cast<uint16_t>(track);
  e.type = type;
  for (size_t i = 0; i < n_args; ++i) {
    Arg a{};
    a.key = intern(args[i].key);
    a.kind = args[i].kind;
    if (a.kind == TraceArg::Kind::number) {
      a.number = args[i].number;
    } else {
      a.text = intern(args[i].text);
    }
    args_.push_back(a);
  }
  events_.push_back(e);
}

void ChromeTraceWriter::on_span(int track, std::string_view name, uint64_t t_begin_ps,
                                uint64_t dur_ps, const TraceArg* args, size_t n_args) {
  push(Type::span, track, name, t_begin_ps, dur_ps, args, n_args);
}

void ChromeTraceWriter::on_counter(int track, std::string_view name, uint64_t t_ps, double value) {
  const TraceArg arg("value", value);
  push(Type::counter, track, name, t_ps, 0, &arg, 1);
}

void ChromeTraceWriter::on_instant(int track, std::string_view name, uint64_t t_ps,
                                   const TraceArg* args, size_t n_args) {
  push(Type::instant, track, name, t_ps, 0, args, n_args);
}

// ---------------------------------------------------------------------------------------------
namespace {

void write_escaped(std::ostream& out, std::string_view s) {
  out.put('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      case '\r': out << "\\r"; break;
      case '\t': out << "\\t"; break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          out << "\\u00" << hex[c >> 4] << hex[c & 0xf];
        } else {
          out.put(ch);
        }
    }
  }
  out.put('"');
}

// Picoseconds as microseconds, exactly: integer part, '.', up to six fractional digits.
void write_us(std::ostream& out, uint64_t ps) {
  const uint64_t whole = ps / 1000000u;
  uint64_t frac = ps % 1000000u;
  out << whole;
  if (frac == 0) return;
  char digits[7];
  for (int i = 5; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  int n = 6;
  while (n > 0 && digits[n - 1] == '0') --n;
  out.put('.');
  out.write(digits, n);
}

// Shortest representation that reads back to the same double; JSON has no NaN/inf -> null.
void write_number(std::ostream& out, double v) {
  if (!std::isfinite(v)) {
    out << "null";
    return;
  }
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.write(buf, res.ptr - buf);
}

}  // namespace

void ChromeTraceWriter::write(std::ostream& out) const {
  constexpr int kPid = 1;
  out << "{\"traceEvents\":[\n";
  out << "{\"ph\":\"M\",\"pid\":" << kPid
      << ",\"name\":\"process_name\",\"args\":{\"name\":\"aimc-vp\"}}";
  for (int t = 0; t < track_count(); ++t) {
    out << ",\n{\"ph\":\"M\",\"pid\":" << kPid << ",\"tid\":" << t + 1
        << ",\"name\":\"thread_name\",\"args\":{\"name\":";
    write_escaped(out, track_name(t));
    out << "}}";
    out << ",\n{\"ph\":\"M\",\"pid\":" << kPid << ",\"tid\":" << t + 1
        << ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":" << t << "}}";
  }

  std::vector<uint32_t> order(events_.size());
  std::iota(order.begin(), order.end(), 0u);
  // Time order; at equal start, longer spans first so that viewers nest children inside parents
  // whichever was recorded first. Stable, so the output is a function of the recorded events.
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const Event& x = events_[a];
    const Event& y = events_[b];
    if (x.t_ps != y.t_ps) return x.t_ps < y.t_ps;
    return x.dur_ps > y.dur_ps;
  });

  for (const uint32_t idx : order) {
    const Event& e = events_[idx];
    out << ",\n{\"ph\":";
    switch (e.type) {
      case Type::span: out << "\"X\""; break;
      case Type::counter: out << "\"C\""; break;
      case Type::instant: out << "\"i\",\"s\":\"t\""; break;
    }
    out << ",\"pid\":" << kPid << ",\"tid\":" << e.track + 1 << ",\"ts\":";
    write_us(out, e.t_ps);
    if (e.type == Type::span) {
      out << ",\"dur\":";
      write_us(out, e.dur_ps);
    }
    out << ",\"name\":";
    if (e.type == Type::counter) {
      // Chrome/Perfetto key counter tracks by process and name, so qualify with the track.
      write_escaped(out, track_name(e.track) + "." + strings_[e.name]);
    } else {
      write_escaped(out, strings_[e.name]);
    }
    if (e.n_args > 0) {
      out << ",\"args\":{";
      for (uint32_t i = 0; i < e.n_args; ++i) {
        const Arg& a = args_[e.first_arg + i];
        if (i) out.put(',');
        write_escaped(out, strings_[a.key]);
        out.put(':');
        if (a.kind == TraceArg::Kind::number) {
          write_number(out, a.number);
        } else {
          write_escaped(out, strings_[a.text]);
        }
      }
      out.put('}');
    }
    out.put('}');
  }
  out << "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{";
  std::vector<std::pair<std::string, std::string>> meta = metadata_;
  const auto add_default = [&meta](const char* key, const char* value) {
    for (const auto& kv : meta)
      if (kv.first == key) return;
    meta.emplace_back(key, value);
  };
  add_default("generator", "aimc-vp ChromeTraceWriter");
  add_default("time_note", "ts and dur are microseconds, exact to the picosecond");
  std::stable_sort(meta.begin(), meta.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  bool first = true;
  for (const auto& kv : meta) {
    if (!first) out.put(',');
    first = false;
    write_escaped(out, kv.first);
    out.put(':');
    write_escaped(out, kv.second);
  }
  if (dropped_ > 0) {
    out << (first ? "" : ",") << "\"truncated\":true,\"max_events\":" << max_events_
        << ",\"dropped_events\":" << dropped_;
  }
  out << "}\n}\n";
}

std::string ChromeTraceWriter::to_string() const {
  std::ostringstream ss;
  write(ss);
  return ss.str();
}

void ChromeTraceWriter::write_file(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("ChromeTraceWriter: cannot open '" + path + "' for writing");
  write(out);
  out.flush();
  if (!out) throw std::runtime_error("ChromeTraceWriter: error writing '" + path + "'");
}

}  // namespace aimc::sim
