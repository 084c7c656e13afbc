// The Chrome trace-event JSON writer (ui.perfetto.dev, chrome://tracing); format in
// traces/README.md. Signal changes are not written: the format has no waveforms, and leaving them
// out keeps traces of runs byte-identical to those written before signals existed.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <ostream>

#include "sim/trace_writers.h"

namespace aimc::sim {
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

class ChromeTraceWriter : public TraceWriter {
 public:
  void write(const TraceStore& store, std::ostream& out) const override {
    write_tracks(store, out);
    for (const uint32_t idx : store.time_order()) write_event(store, store.events()[idx], out);
    out << "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{";
    write_other_data(store, out);
    out << "}\n}\n";
  }

 private:
  static constexpr int kPid = 1;

  static void write_tracks(const TraceStore& store, std::ostream& out) {
    out << "{\"traceEvents\":[\n";
    out << "{\"ph\":\"M\",\"pid\":" << kPid
        << ",\"name\":\"process_name\",\"args\":{\"name\":\"aimc-vp\"}}";
    for (int t = 0; t < store.track_count(); ++t) {
      out << ",\n{\"ph\":\"M\",\"pid\":" << kPid << ",\"tid\":" << t + 1
          << ",\"name\":\"thread_name\",\"args\":{\"name\":";
      write_escaped(out, store.track_name(t));
      out << "}}";
      out << ",\n{\"ph\":\"M\",\"pid\":" << kPid << ",\"tid\":" << t + 1
          << ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":" << t << "}}";
    }
  }

  static void write_event(const TraceStore& store, const TraceStore::Event& e, std::ostream& out) {
    using Type = TraceStore::Type;
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
      write_escaped(out, store.track_name(e.track) + "." + store.str(e.name));
    } else {
      write_escaped(out, store.str(e.name));
    }
    if (e.n_args > 0) {
      out << ",\"args\":{";
      for (uint32_t i = 0; i < e.n_args; ++i) {
        const TraceStore::Arg& a = store.arg(e.first_arg + i);
        if (i) out.put(',');
        write_escaped(out, store.str(a.key));
        out.put(':');
        if (a.kind == TraceArg::Kind::number) {
          write_number(out, a.number);
        } else {
          write_escaped(out, store.str(a.text));
        }
      }
      out.put('}');
    }
    out.put('}');
  }

  static void write_other_data(const TraceStore& store, std::ostream& out) {
    std::vector<std::pair<std::string, std::string>> meta = store.metadata();
    const auto add_default = [&meta](const char* key, const char* value) {
      for (const auto& kv : meta)
        if (kv.first == key) return;
      meta.emplace_back(key, value);
    };
    // The generator's name predates the split into store and writers; kept so that traces of
    // the same run stay byte-identical.
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
    if (store.dropped_events() > 0) {
      out << (first ? "" : ",") << "\"truncated\":true,\"max_events\":" << store.max_events()
          << ",\"dropped_events\":" << store.dropped_events();
    }
  }
};

std::unique_ptr<TraceWriter> make_chrome_writer() { return std::make_unique<ChromeTraceWriter>(); }

}  // namespace

const TraceFormat& chrome_trace_format() {
  static const TraceFormat format{"chrome", {".json"},
                                  "Chrome/Perfetto trace-event JSON (ui.perfetto.dev)",
                                  &make_chrome_writer};
  return format;
}

}  // namespace aimc::sim
