#pragma once
// When a backup policy wants a copy: a pure function of the schedule, the
// time of the policy's newest copy and now, so tests drive it with any
// clock. Slots (UTC): hourly at :00; nightly and daily at 00:00; weekly on
// Sunday 00:00; monthly on the 1st at 00:00; cron at the minutes it names;
// `every N` N after the newest copy. A copy is due when a slot has come
// since the newest copy -- however many slots passed (the service was
// down), one copy catches up on all of them. A policy without a copy yet
// wants one now: a disk is protected from the start.
#include <optional>

#include "compiler/values.h"
#include "reconciler/clock.h"

namespace farmctl::reconcile {

// The first slot strictly after `t`; nullopt for a cron schedule that names
// no time in the next five years.
std::optional<TimePoint> next_slot_after(const fml::Schedule& schedule, TimePoint t);

bool copy_due(const fml::Schedule& schedule, std::optional<TimePoint> newest_copy, TimePoint now);

}  // namespace farmctl::reconcile
