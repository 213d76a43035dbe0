#pragma once
// Where the data folders (models/, hardware_profiles/) live: $MESHSIM_DATA_DIR when it is set and
// not empty, else the source tree. A set MESHSIM_DATA_DIR must be a directory holding the folder
// asked for; anything else (a missing path, a regular file, /dev/zero) is bad input naming the
// variable (issue 17, item 17), not an empty zoo.
#include <filesystem>
#include <string>

namespace meshsim {

// The data folder `folder` ("models", "hardware_profiles"). Throws InputError naming
// MESHSIM_DATA_DIR when the variable is set and does not lead to a readable directory `folder`.
std::filesystem::path data_folder(const std::string& folder);

}  // namespace meshsim
