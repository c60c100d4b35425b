#pragma once
// Lowering: a checked Farm becomes the Plan IR (FML.md, "Meaning"). Pure and
// deterministic: the same farm always lowers to the same plan. Cannot fail —
// everything that could go wrong was reported by the analyzer.
#include "compiler/farm_model.h"
#include "compiler/plan_ir.h"

#include <ostream>

namespace farmctl::fml {

plan::Plan lower(const Farm& farm);

// The JSON of lower(farm) (plan::to_json), byte for byte, written without
// making the plan: farmctl compile's output. A large farm's items are made
// on two threads, a few thousand at a time, and written in order as they are
// made; false when `out` failed.
bool write_plan_json(const Farm& farm, std::ostream& out);

}  // namespace farmctl::fml
