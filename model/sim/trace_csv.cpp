// The CSV writer: one row per event, for spreadsheets and pandas. Columns: kind (span, instant,
// counter, signal), track, name, t_begin_ps, dur_ps (spans only), then one column per argument
// key seen anywhere in the trace, sorted by name, empty where an event lacks it (a counter's and
// a signal's value is the `value` column). Rows in time order (the order of the Chrome writer;
// signal changes after the events at the same time). Quoting per RFC 4180; lines end in "\n".
#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <ostream>
#include <set>

#include "sim/trace_writers.h"

namespace aimc::sim {
namespace {

// RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled.
void write_field(std::ostream& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << s;
    return;
  }
  out.put('"');
  for (const char c : s) {
    if (c == '"') out.put('"');
    out.put(c);
  }
  out.put('"');
}

std::string number_text(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

constexpr const char* kFixedColumns[] = {"kind", "track", "name", "t_begin_ps", "dur_ps"};

class CsvTraceWriter : public TraceWriter {
 public:
  void write(const TraceStore& store, std::ostream& out) const override {
    // Argument columns: every key, sorted; a key that clashes with a fixed column is "arg:key".
    std::set<std::string> keys;
    for (const auto& e : store.events())
      for (uint32_t i = 0; i < e.n_args; ++i) keys.insert(store.str(store.arg(e.first_arg + i).key));
    if (!store.signals().empty()) keys.insert("value");
    std::map<std::string, size_t> column;  // key -> index among the argument columns
    for (const auto& k : keys) column.emplace(k, column.size());

    out << "kind,track,name,t_begin_ps,dur_ps";
    for (const auto& k : keys) {
      const bool clash = std::find(std::begin(kFixedColumns), std::end(kFixedColumns), k) !=
                         std::end(kFixedColumns);
      out.put(',');
      write_field(out, clash ? "arg:" + k : k);
    }
    out << '\n';

    std::vector<std::string> cells(keys.size());
    const auto& signals = store.signals();
    std::vector<uint32_t> signal_order(signals.size());
    for (uint32_t i = 0; i < signal_order.size(); ++i) signal_order[i] = i;
    std::stable_sort(signal_order.begin(), signal_order.end(),
                     [&](uint32_t a, uint32_t b) { return signals[a].t_ps < signals[b].t_ps; });
    size_t s = 0;
    const auto flush_signals_until = [&](uint64_t t_ps, bool inclusive) {
      for (; s < signal_order.size(); ++s) {
        const auto& sig = signals[signal_order[s]];
        if (inclusive ? sig.t_ps > t_ps : sig.t_ps >= t_ps) break;
        std::fill(cells.begin(), cells.end(), std::string());
        cells[column.at("value")] = std::to_string(sig.value);
        write_row(out, "signal", store.track_name(sig.track), store.str(sig.name), sig.t_ps, nullptr,
                  cells);
      }
    };
    for (const uint32_t idx : store.time_order()) {
      const auto& e = store.events()[idx];
      flush_signals_until(e.t_ps, false);
      std::fill(cells.begin(), cells.end(), std::string());
      for (uint32_t i = 0; i < e.n_args; ++i) {
        const auto& a = store.arg(e.first_arg + i);
        cells[column.at(store.str(a.key))] =
            a.kind == TraceArg::Kind::number ? number_text(a.number) : store.str(a.text);
      }
      const char* kind = e.type == TraceStore::Type::span      ? "span"
                         : e.type == TraceStore::Type::counter ? "counter"
                                                               : "instant";
      write_row(out, kind, store.track_name(e.track), store.str(e.name), e.t_ps,
                e.type == TraceStore::Type::span ? &e.dur_ps : nullptr, cells);
    }
    flush_signals_until(std::numeric_limits<uint64_t>::max(), true);
  }

 private:
  static void write_row(std::ostream& out, const char* kind, std::string_view track,
                        std::string_view name, uint64_t t_ps, const uint64_t* dur_ps,
                        const std::vector<std::string>& cells) {
    out << kind << ',';
    write_field(out, track);
    out.put(',');
    write_field(out, name);
    out << ',' << t_ps << ',';
    if (dur_ps) out << *dur_ps;
    for (const auto& c : cells) {
      out.put(',');
      write_field(out, c);
    }
    out << '\n';
  }
};

std::unique_ptr<TraceWriter> make_csv_writer() { return std::make_unique<CsvTraceWriter>(); }

}  // namespace

const TraceFormat& csv_trace_format() {
  static const TraceFormat format{
      "csv", {".csv"},
      "one row per span, instant, counter sample and signal change, with its arguments as columns",
      &make_csv_writer};
  return format;
}

}  // namespace aimc::sim
