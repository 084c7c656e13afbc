// The one trace path (ARCHITECTURE rule 4): components emit spans, counters and instants on named
// tracks to a TraceSink; writers (Chrome/Perfetto JSON here; VCD and CSV later) sit behind it.
// Times are integer picoseconds. A disabled sink costs one inline bool test: callers guard with
// `if (sink.enabled())` and the disabled path never allocates.
#pragma once

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>
#include <unordered_map>
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

 protected:
  explicit TraceSink(bool enabled) : enabled_(enabled) {}
  void set_enabled(bool on) { enabled_ = on; }
  virtual void on_span(int track, std::string_view name, uint64_t t_begin_ps, uint64_t dur_ps,
                       const TraceArg* args, size_t n_args) {}
  virtual void on_counter(int track, std::string_view name, uint64_t t_ps, double value) {}
  virtual void on_instant(int track, std::string_view name, uint64_t t_ps, const TraceArg* args,
                          size_t n_args) {}

 private:
  bool enabled_ = false;
  std::vector<std::string> track_names_;
};

// Collects events in memory (a compact record per event, names and keys interned) and writes
// Chrome trace-event JSON that ui.perfetto.dev and chrome://tracing open. See traces/README.md.
class ChromeTraceWriter : public TraceSink {
 public:
  // max_events = 0: unlimited. Beyond the limit, events are counted and dropped, and the output's
  // otherData says so.
  explicit ChromeTraceWriter(uint64_t max_events = 0);

  // Extra otherData entries (e.g. platform name, seed). Written sorted by key. The keys
  // "truncated", "max_events" and "dropped_events" are reserved (std::invalid_argument).
  void set_metadata(std::string_view key, std::string_view value);

  uint64_t event_count() const { return events_.size(); }
  uint64_t dropped_events() const { return dropped_; }

  // Whole document. Same events -> same bytes. Events are written in time order (stable; at
  // equal start times, longer spans first).
  void write(std::ostream& out) const;
  std::string to_string() const;
  // Throws std::runtime_error naming the path when the file cannot be written.
  void write_file(const std::string& path) const;

 protected:
  void on_span(int track, std::string_view name, uint64_t t_begin_ps, uint64_t dur_ps,
               const TraceArg* args, size_t n_args) override;
  void on_counter(int track, std::string_view name, uint64_t t_ps, double value) override;
  void on_instant(int track, std::string_view name, uint64_t t_ps, const TraceArg* args,
                  size_t n_args) override;

 private:
  enum class Type : uint8_t { span, counter, instant };
  struct Event {           // 32 bytes
    uint64_t t_ps;
    uint64_t dur_ps;       // counters: unused
    uint32_t name;         // interned
    uint32_t first_arg;    // index into args_
    uint16_t n_args;
    uint16_t track;
    Type type;
  };
  struct Arg {             // 16 bytes
    uint32_t key;          // interned
    TraceArg::Kind kind;
    union {
      double number;
      uint32_t text;       // interned
    };
  };

  uint32_t intern(std::string_view s);
  bool admit();
  void push(Type type, int track, std::string_view name, uint64_t t_ps, uint64_t dur_ps,
            const TraceArg* args, size_t n_args);

  uint64_t max_events_;
  uint64_t dropped_ = 0;
  std::vector<Event> events_;
  std::vector<Arg> args_;
  std::deque<std::string> strings_;                        // stable storage for interned strings
  std::unordered_map<std::string_view, uint32_t> string_ids_;  // views into strings_
  std::vector<std::pair<std::string, std::string>> metadata_;
};

}  // namespace aimc::sim
