// The one trace path (ARCHITECTURE rule 4): components emit spans, counters, instants and signal
// changes on named tracks to a TraceSink. The recording sink is TraceStore (sim/trace_store.h);
// writers (Chrome/Perfetto JSON, VCD, CSV: sim/trace_writers.h) turn a store into a file.
// Times are integer picoseconds. A disabled sink costs one inline bool test: callers guard with
// `if (sink.enabled())` and the disabled path never allocates.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace aimc::sim {

// One argument of an event: a key and a number or a string. Keys carry units ("energy_pj",
// "bytes"). Views only: the sink copies what it keeps, so temporaries are fine.
struct TraceArg {
  enum class Kind : uint8_t { number, text };
  std::string_view key;
  Kind kind = Kind::number;
  double number = 0.0;
  std::string_view text;

  TraceArg(std::string_view k, double v) : key(k), kind(Kind::number), number(v) {}
  TraceArg(std::string_view k, int v) : TraceArg(k, static_cast<double>(v)) {}
  TraceArg(std::string_view k, long v) : TraceArg(k, static_cast<double>(v)) {}
  TraceArg(std::string_view k, long long v) : TraceArg(k, static_cast<double>(v)) {}
  TraceArg(std::string_view k, unsigned v) : TraceArg(k, static_cast<double>(v)) {}
  TraceArg(std::string_view k, unsigned long v) : TraceArg(k, static_cast<double>(v)) {}
  TraceArg(std::string_view k, unsigned long long v) : TraceArg(k, static_cast<double>(v)) {}
  TraceArg(std::string_view k, std::string_view v) : key(k), kind(Kind::text), text(v) {}
  TraceArg(std::string_view k, const char* v) : TraceArg(k, std::string_view(v)) {}
  TraceArg(std::string_view k, const std::string& v) : TraceArg(k, std::string_view(v)) {}
};

// The sink interface. The base class is itself the disabled sink: it names tracks (so modules can
// create their track at elaboration whatever the sink) and drops every event.
class TraceSink {
 public:
  TraceSink() = default;
  TraceSink(const TraceSink&) = delete;
  TraceSink& operator=(const TraceSink&) = delete;
  virtual ~TraceSink() = default;

  bool enabled() const { return enabled_; }

  // Find-or-create a track by name ("tile0", "bus", "host", ...). Ids are dense, creation order.
  int track(std::string_view name);
  int track_count() const { return static_cast<int>(track_names_.size()); }
  const std::string& track_name(int track) const { return track_names_.at(track); }

  // A complete span [t_begin_ps, t_begin_ps + dur_ps) on a track.
  void span(int track, std::string_view name, uint64_t t_begin_ps, uint64_t dur_ps,
            std::initializer_list<TraceArg> args = {}) {
    if (enabled_) on_span(track, name, t_begin_ps, dur_ps, args.begin(), args.size());
  }
  // A sample of a counter that belongs to a track (shown as "<track>.<name>").
  void counter(int track, std::string_view name, uint64_t t_ps, double value) {
    if (enabled_) on_counter(track, name, t_ps, value);
  }
  // A zero-duration marker on a track.
  void instant(int track, std::string_view name, uint64_t t_ps,
               std::initializer_list<TraceArg> args = {}) {
    if (enabled_) on_instant(track, name, t_ps, args.begin(), args.size());
  }
  // The new value of a digital signal of `bits` bits (1..64) that belongs to a track, e.g. the
  // interrupt line or the power state: waveform state rather than activity. Emit it when the
  // value changes (and once for the initial value). Waveform and table writers (VCD, CSV) show
  // signals; the Chrome JSON writer leaves them out.
  void signal(int track, std::string_view name, uint64_t t_ps, uint64_t value, unsigned bits = 1) {
    if (enabled_) on_signal(track, name, t_ps, value, bits);
  }

 protected:
  explicit TraceSink(bool enabled) : enabled_(enabled) {}
  void set_enabled(bool on) { enabled_ = on; }
  virtual void on_span(int track, std::string_view name, uint64_t t_begin_ps, uint64_t dur_ps,
                       const TraceArg* args, size_t n_args) {}
  virtual void on_counter(int track, std::string_view name, uint64_t t_ps, double value) {}
  virtual void on_instant(int track, std::string_view name, uint64_t t_ps, const TraceArg* args,
                          size_t n_args) {}
  virtual void on_signal(int track, std::string_view name, uint64_t t_ps, uint64_t value,
                         unsigned bits) {}

 private:
  bool enabled_ = false;
  std::vector<std::string> track_names_;
};

}  // namespace aimc::sim
