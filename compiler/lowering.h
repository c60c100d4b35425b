#pragma once
// Lowering: a checked Farm becomes the Plan IR (FML.md, "Meaning"). Pure and
// deterministic: the same farm always lowers to the same plan. Cannot fail —
// everything that could go wrong was reported by the analyzer.
#include "compiler/farm_model.h"
#include "compiler/plan_ir.h"

namespace farmctl::fml {

plan::Plan lower(const Farm& farm);

}  // namespace farmctl::fml
