// The configured model: present, its checksum, loads, and one 32x32 frame runs through it
// on the device the plan chose.
//
// Contract: synchronous; loading a network may take seconds. Never throws: loader and
// runtime errors (upscaled::Error and others) become a failing, blocking check carrying
// their message.
#pragma once

#include "doctor/check.h"
#include "model/model_loader.h"

namespace upscaled::doctor {

// request.device is the device the tile runs on ("cuda" or "cpu").
Check model_check(const model::ModelRequest& request);

// True when the name is a file or folder path rather than a built-in or registry name.
bool model_name_is_path(const std::string& name);

}  // namespace upscaled::doctor
