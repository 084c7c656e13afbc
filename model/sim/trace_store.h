// The recording trace sink: every event kept in memory, compactly (a 32-byte record per event,
// names, keys and text values interned), for the writers in sim/trace_writers.h to turn into a
// file after the run. Recording and writing are apart so that one store can be written in any
// format and a new format never touches the modules that emit events.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/trace.h"

namespace aimc::sim {

class TraceStore : public TraceSink {
 public:
  enum class Type : uint8_t { span, counter, instant };
  struct Event {           // 32 bytes
    uint64_t t_ps;
    uint64_t dur_ps;       // spans only
    uint32_t name;         // interned (str())
    uint32_t first_arg;    // index into arg()
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
  struct Signal {          // one value change of a signal (TraceSink::signal)
    uint64_t t_ps;
    uint64_t value;
    uint32_t name;         // interned
    uint16_t track;
    uint8_t bits;          // 1..64
  };

  // max_events = 0: unlimited. Beyond the limit, events are counted and dropped (writers say so).
  // Signal changes have their own budget of the same size, so that adding signals never changes
  // which spans, counters and instants are kept.
  explicit TraceStore(uint64_t max_events = 0);

  // Run metadata (platform name, seed, ...) for the writers' headers. The keys "truncated",
  // "max_events" and "dropped_events" are reserved (std::invalid_argument).
  void set_metadata(std::string_view key, std::string_view value);
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }

  uint64_t max_events() const { return max_events_; }
  // Spans, counters and instants kept / dropped (signal changes are counted apart).
  uint64_t event_count() const { return events_.size(); }
  uint64_t dropped_events() const { return dropped_; }
  uint64_t dropped_signals() const { return dropped_signals_; }

  const std::vector<Event>& events() const { return events_; }
  const Arg& arg(uint32_t index) const { return args_[index]; }
  const std::vector<Signal>& signals() const { return signals_; }
  const std::string& str(uint32_t id) const { return strings_[id]; }

  // Indices into events() in time order: by start time, at equal start longer spans first (so a
  // parent precedes its children whichever was recorded first), otherwise recording order.
  // Every writer uses this order, so the same events give the same bytes.
  std::vector<uint32_t> time_order() const;

 protected:
  void on_span(int track, std::string_view name, uint64_t t_begin_ps, uint64_t dur_ps,
               const TraceArg* args, size_t n_args) override;
  void on_counter(int track, std::string_view name, uint64_t t_ps, double value) override;
  void on_instant(int track, std::string_view name, uint64_t t_ps, const TraceArg* args,
                  size_t n_args) override;
  void on_signal(int track, std::string_view name, uint64_t t_ps, uint64_t value,
                 unsigned bits) override;

 private:
  uint32_t intern(std::string_view s);
  void check_track(int track, std::string_view name) const;
  void push(Type type, int track, std::string_view name, uint64_t t_ps, uint64_t dur_ps,
            const TraceArg* args, size_t n_args);

  uint64_t max_events_;
  uint64_t dropped_ = 0;
  uint64_t dropped_signals_ = 0;
  std::vector<Event> events_;
  std::vector<Arg> args_;
  std::vector<Signal> signals_;
  std::deque<std::string> strings_;                            // stable storage for interned strings
  std::unordered_map<std::string_view, uint32_t> string_ids_;  // views into strings_
  std::vector<std::pair<std::string, std::string>> metadata_;
};

}  // namespace aimc::sim
