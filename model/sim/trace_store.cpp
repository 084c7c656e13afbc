#include "sim/trace_store.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace aimc::sim {

TraceStore::TraceStore(uint64_t max_events) : TraceSink(true), max_events_(max_events) {}

void TraceStore::set_metadata(std::string_view key, std::string_view value) {
  if (key == "truncated" || key == "max_events" || key == "dropped_events") {
    throw std::invalid_argument("TraceStore: metadata key '" + std::string(key) + "' is reserved");
  }
  for (auto& kv : metadata_) {
    if (kv.first == key) {
      kv.second = std::string(value);
      return;
    }
  }
  metadata_.emplace_back(std::string(key), std::string(value));
}

uint32_t TraceStore::intern(std::string_view s) {
  auto it = string_ids_.find(s);
  if (it != string_ids_.end()) return it->second;
  strings_.emplace_back(s);
  const auto id = static_cast<uint32_t>(strings_.size() - 1);
  string_ids_.emplace(std::string_view(strings_.back()), id);
  return id;
}

void TraceStore::check_track(int track, std::string_view name) const {
  if (track < 0 || track >= track_count()) {
    throw std::invalid_argument("TraceStore: event '" + std::string(name) + "' on unknown track " +
                                std::to_string(track));
  }
}

void TraceStore::push(Type type, int track, std::string_view name, uint64_t t_ps, uint64_t dur_ps,
                      const TraceArg* args, size_t n_args) {
  check_track(track, name);
  if (max_events_ != 0 && events_.size() >= max_events_) {
    ++dropped_;
    return;
  }
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

void TraceStore::on_span(int track, std::string_view name, uint64_t t_begin_ps, uint64_t dur_ps,
                         const TraceArg* args, size_t n_args) {
  push(Type::span, track, name, t_begin_ps, dur_ps, args, n_args);
}

void TraceStore::on_counter(int track, std::string_view name, uint64_t t_ps, double value) {
  const TraceArg arg("value", value);
  push(Type::counter, track, name, t_ps, 0, &arg, 1);
}

void TraceStore::on_instant(int track, std::string_view name, uint64_t t_ps, const TraceArg* args,
                            size_t n_args) {
  push(Type::instant, track, name, t_ps, 0, args, n_args);
}

void TraceStore::on_signal(int track, std::string_view name, uint64_t t_ps, uint64_t value,
                           unsigned bits) {
  check_track(track, name);
  if (bits < 1 || bits > 64 || (bits < 64 && (value >> bits) != 0)) {
    throw std::invalid_argument("TraceStore: signal '" + std::string(name) + "' value " +
                                std::to_string(value) + " does not fit " + std::to_string(bits) +
                                " bit(s) (1..64)");
  }
  if (max_events_ != 0 && signals_.size() >= max_events_) {
    ++dropped_signals_;
    return;
  }
  signals_.push_back(Signal{t_ps, value, intern(name), static_cast<uint16_t>(track),
                            static_cast<uint8_t>(bits)});
}

std::vector<uint32_t> TraceStore::time_order() const {
  std::vector<uint32_t> order(events_.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const Event& x = events_[a];
    const Event& y = events_[b];
    if (x.t_ps != y.t_ps) return x.t_ps < y.t_ps;
    return x.dur_ps > y.dur_ps;
  });
  return order;
}

}  // namespace aimc::sim
