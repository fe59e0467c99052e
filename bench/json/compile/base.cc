// Baseline: the standard headers any such file includes anyway.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

std::string Work(std::string_view body) { return std::string(body); }
