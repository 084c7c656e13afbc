// The VCD writer (IEEE 1364 value change dump; GTKWave, Surfer): a trace as waveforms. Per track
// (one $scope each): `busy`, a wire high while any span on the track is open (nested or
// overlapping spans count once); `bytes_in_flight`, a real, the sum of the `bytes` argument of
// the open spans (tracks whose spans carry `bytes`: bus, SRAM, host DMA); every counter as a
// real; every signal (interrupt line, power state) as a wire of its width. Instants are not
// drawn. Times are integer picoseconds ($timescale 1ps); no $date, so the same events give the
// same bytes. traces/README.md lists the signals.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <ostream>
#include <set>

#include "sim/trace_writers.h"

namespace aimc::sim {
namespace {

struct Var {
  enum class Kind : uint8_t { busy, bytes, counter, signal };
  Kind kind;
  int track;
  uint32_t source = 0;  // counter or signal name (interned in the store)
  unsigned bits = 1;    // wire width; 0 = real
  std::string name;     // reference name in its scope
  std::string id;       // identifier code
};

struct Change {
  uint64_t t_ps;
  uint32_t var;
  uint64_t wire;  // value of a wire
  double real;    // value of a real
};

// VCD identifiers: printable ASCII '!'..'~', shortest first.
std::string id_code(size_t index) {
  std::string id;
  do {
    id.push_back(static_cast<char>('!' + index % 94));
    index /= 94;
  } while (index > 0);
  return id;
}

// Reference and scope names are single tokens; '.' would read as hierarchy in viewers.
std::string sanitize(std::string_view s) {
  std::string out;
  for (const char c : s)
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_');
  return out.empty() ? std::string("_") : out;
}

std::string unique_in(std::set<std::string>& taken, std::string name) {
  std::string candidate = name;
  for (int k = 2; !taken.insert(candidate).second; ++k) candidate = name + "_" + std::to_string(k);
  return candidate;
}

bool same_real(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void write_real(std::ostream& out, double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.write(buf, res.ptr - buf);
}

// Header text must not contain "$end"; '$' is dropped from free text.
std::string comment_text(std::string_view s) {
  std::string out;
  for (const char c : s)
    if (c != '$') out.push_back(c == '\n' ? ' ' : c);
  return out;
}

class VcdTraceWriter : public TraceWriter {
 public:
  void write(const TraceStore& store, std::ostream& out) const override {
    std::vector<Var> vars = declare(store);
    std::vector<Change> changes;
    span_changes(store, vars, changes);
    sample_changes(store, vars, changes);
    std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
      return a.t_ps != b.t_ps ? a.t_ps < b.t_ps : a.var < b.var;
    });
    write_header(store, vars, out);
    write_changes(store, vars, changes, out);
  }

 private:
  // The variables, in scope (track) order; within a track: busy, bytes_in_flight, signals and
  // counters by name.
  static std::vector<Var> declare(const TraceStore& store) {
    const int n_tracks = store.track_count();
    std::vector<bool> spans(n_tracks, false), bytes(n_tracks, false);
    std::vector<std::map<std::string, uint32_t>> counters(n_tracks);
    std::vector<std::map<std::string, std::pair<uint32_t, unsigned>>> signals(n_tracks);
    for (const auto& e : store.events()) {
      if (e.type == TraceStore::Type::span) {
        spans[e.track] = true;
        for (uint32_t i = 0; i < e.n_args; ++i) {
          const auto& a = store.arg(e.first_arg + i);
          if (a.kind == TraceArg::Kind::number && store.str(a.key) == "bytes") bytes[e.track] = true;
        }
      } else if (e.type == TraceStore::Type::counter) {
        counters[e.track].emplace(store.str(e.name), e.name);
      }
    }
    for (const auto& s : store.signals()) {
      auto& entry = signals[s.track].emplace(store.str(s.name), std::make_pair(s.name, 1u)).first->second;
      entry.second = std::max<unsigned>(entry.second, s.bits);
    }
    std::vector<Var> vars;
    for (int t = 0; t < n_tracks; ++t) {
      std::set<std::string> taken;
      auto add = [&](Var::Kind kind, uint32_t source, unsigned bits, std::string_view name) {
        vars.push_back(Var{kind, t, source, bits, unique_in(taken, sanitize(name)), id_code(vars.size())});
      };
      if (spans[t]) add(Var::Kind::busy, 0, 1, "busy");
      if (bytes[t]) add(Var::Kind::bytes, 0, 0, "bytes_in_flight");
      for (const auto& [name, sig] : signals[t]) add(Var::Kind::signal, sig.first, sig.second, name);
      for (const auto& [name, id] : counters[t]) add(Var::Kind::counter, id, 0, name);
    }
    return vars;
  }

  // busy and bytes_in_flight from span edges: everything that happens at one time is applied
  // before the values are compared, so a span ending where the next begins leaves busy high.
  static void span_changes(const TraceStore& store, const std::vector<Var>& vars,
                           std::vector<Change>& changes) {
    struct Edge {
      uint64_t t_ps;
      int open;      // +1 begin, -1 end
      double bytes;  // signed like open
    };
    std::vector<std::vector<Edge>> edges(store.track_count());
    for (const auto& e : store.events()) {
      if (e.type != TraceStore::Type::span) continue;
      double bytes = 0.0;
      for (uint32_t i = 0; i < e.n_args; ++i) {
        const auto& a = store.arg(e.first_arg + i);
        if (a.kind == TraceArg::Kind::number && store.str(a.key) == "bytes") bytes = a.number;
      }
      edges[e.track].push_back(Edge{e.t_ps, +1, bytes});
      edges[e.track].push_back(Edge{e.t_ps + e.dur_ps, -1, -bytes});
    }
    for (uint32_t v = 0; v < vars.size(); ++v) {
      const Var& var = vars[v];
      if (var.kind != Var::Kind::busy && var.kind != Var::Kind::bytes) continue;
      auto& list = edges[var.track];
      std::stable_sort(list.begin(), list.end(),
                       [](const Edge& a, const Edge& b) { return a.t_ps < b.t_ps; });
      int open = 0;
      double in_flight = 0.0;
      bool last_busy = false;
      double last_bytes = 0.0;
      for (size_t i = 0; i < list.size();) {
        const uint64_t t = list[i].t_ps;
        for (; i < list.size() && list[i].t_ps == t; ++i) {
          open += list[i].open;
          in_flight += list[i].bytes;
        }
        if (open == 0) in_flight = 0.0;  // no rounding residue once every span has closed
        if (var.kind == Var::Kind::busy && (open > 0) != last_busy) {
          last_busy = open > 0;
          changes.push_back(Change{t, v, last_busy ? 1u : 0u, 0.0});
        } else if (var.kind == Var::Kind::bytes && !same_real(in_flight, last_bytes)) {
          last_bytes = in_flight;
          changes.push_back(Change{t, v, 0, in_flight});
        }
      }
    }
  }

  // Counters and signals: the last sample at a time wins; only changes are kept.
  static void sample_changes(const TraceStore& store, const std::vector<Var>& vars,
                             std::vector<Change>& changes) {
    std::map<std::pair<int, uint32_t>, uint32_t> counter_var, signal_var;
    for (uint32_t v = 0; v < vars.size(); ++v) {
      if (vars[v].kind == Var::Kind::counter) counter_var[{vars[v].track, vars[v].source}] = v;
      if (vars[v].kind == Var::Kind::signal) signal_var[{vars[v].track, vars[v].source}] = v;
    }
    // Per variable: (time, value) in time order, recording order at equal times.
    std::vector<std::vector<Change>> samples(vars.size());
    for (const uint32_t idx : store.time_order()) {
      const auto& e = store.events()[idx];
      if (e.type != TraceStore::Type::counter) continue;
      const uint32_t v = counter_var.at({e.track, e.name});
      samples[v].push_back(Change{e.t_ps, v, 0, store.arg(e.first_arg).number});
    }
    for (const auto& s : store.signals()) {
      const uint32_t v = signal_var.at({s.track, s.name});
      samples[v].push_back(Change{s.t_ps, v, s.value, 0.0});
    }
    for (uint32_t v = 0; v < vars.size(); ++v) {
      auto& list = samples[v];
      std::stable_sort(list.begin(), list.end(),
                       [](const Change& a, const Change& b) { return a.t_ps < b.t_ps; });
      const bool real = vars[v].bits == 0;
      bool known = real;  // counters start at 0, signals unknown
      Change last{0, v, 0, 0.0};
      for (size_t i = 0; i < list.size(); ++i) {
        if (i + 1 < list.size() && list[i + 1].t_ps == list[i].t_ps) continue;
        const Change& c = list[i];
        const bool same = real ? same_real(c.real, last.real) : c.wire == last.wire;
        if (known && same) continue;
        changes.push_back(c);
        last = c;
        known = true;
      }
    }
  }

  static void write_header(const TraceStore& store, const std::vector<Var>& vars, std::ostream& out) {
    out << "$comment\n  aimc-vp trace (VCD writer, traces/README.md)\n";
    std::vector<std::pair<std::string, std::string>> meta = store.metadata();
    std::stable_sort(meta.begin(), meta.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [k, v] : meta) out << "  " << comment_text(k) << ": " << comment_text(v) << "\n";
    if (store.dropped_events() > 0 || store.dropped_signals() > 0)
      out << "  truncated: max_events " << store.max_events() << ", dropped_events "
          << store.dropped_events() << ", dropped_signal_changes " << store.dropped_signals()
          << "\n";
    out << "$end\n$version aimc-vp $end\n$timescale 1ps $end\n$scope module aimc $end\n";
    std::set<std::string> scopes;
    for (size_t v = 0; v < vars.size(); ++v) {
      if (v == 0 || vars[v].track != vars[v - 1].track)
        out << "$scope module " << unique_in(scopes, sanitize(store.track_name(vars[v].track)))
            << " $end\n";
      const Var& var = vars[v];
      out << "$var " << (var.bits == 0 ? "real 64 " : "wire " + std::to_string(var.bits) + " ")
          << var.id << " " << var.name << " $end\n";
      if (v + 1 == vars.size() || vars[v + 1].track != var.track) out << "$upscope $end\n";
    }
    out << "$upscope $end\n$enddefinitions $end\n";
  }

  static void write_value(const Var& var, bool known, uint64_t wire, double real, std::ostream& out) {
    if (var.bits == 0) {
      out.put('r');
      write_real(out, real);
      out << ' ' << var.id << '\n';
    } else if (var.bits == 1) {
      out << (known ? (wire ? '1' : '0') : 'x') << var.id << '\n';
    } else {
      out.put('b');
      if (!known) {
        out.put('x');
      } else {
        int top = 63;
        while (top > 0 && ((wire >> top) & 1u) == 0) --top;
        for (int b = top; b >= 0; --b) out.put(((wire >> b) & 1u) ? '1' : '0');
      }
      out << ' ' << var.id << '\n';
    }
  }

  // Initial values at #0 ($dumpvars: busy 0, reals 0, signals x unless they change at 0), then
  // one #time per time with changes, and a last #time at the end of the last event.
  static void write_changes(const TraceStore& store, const std::vector<Var>& vars,
                            const std::vector<Change>& changes, std::ostream& out) {
    std::vector<const Change*> at_zero(vars.size(), nullptr);
    size_t i = 0;
    for (; i < changes.size() && changes[i].t_ps == 0; ++i) at_zero[changes[i].var] = &changes[i];
    out << "#0\n$dumpvars\n";
    for (size_t v = 0; v < vars.size(); ++v) {
      const Change* c = at_zero[v];
      const bool known = c != nullptr || vars[v].kind != Var::Kind::signal;
      write_value(vars[v], known, c ? c->wire : 0, c ? c->real : 0.0, out);
    }
    out << "$end\n";
    uint64_t now = 0;
    for (; i < changes.size(); ++i) {
      const Change& c = changes[i];
      if (c.t_ps != now) {
        now = c.t_ps;
        out << '#' << now << '\n';
      }
      write_value(vars[c.var], true, c.wire, c.real, out);
    }
    uint64_t end = 0;
    for (const auto& e : store.events()) end = std::max(end, e.t_ps + e.dur_ps);
    for (const auto& s : store.signals()) end = std::max(end, s.t_ps);
    if (end > now) out << '#' << end << '\n';
  }
};

std::unique_ptr<TraceWriter> make_vcd_writer() { return std::make_unique<VcdTraceWriter>(); }

}  // namespace

const TraceFormat& vcd_trace_format() {
  static const TraceFormat format{
      "vcd", {".vcd"},
      "value change dump for waveform viewers (GTKWave): busy, bytes in flight, counters, "
      "interrupt line, power state",
      &make_vcd_writer};
  return format;
}

}  // namespace aimc::sim
