#pragma once
// How an apply shows its progress: one live status line on a terminal (done
// of total, running, failed, elapsed) with a plain line for each failure;
// plain lines, one per action, when not a terminal; JSON events, one per
// line, for machines (--json; docs/cli.md lists the event fields).
#include <memory>

#include "reconciler/apply.h"

namespace farmctl::cli {

enum class ProgressStyle { live, lines, json };
std::unique_ptr<reconcile::ApplyEvents> make_progress(ProgressStyle style, int total);

}  // namespace farmctl::cli
