// Poco JSON: read a body, write a reply.
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

std::string Work(std::string_view body) {
  try {
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
    auto v = parser.parse(std::string(body));
    auto in = v.extract<Poco::JSON::Object::Ptr>();
    Poco::JSON::Object::Ptr out = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& [k, val] : *in) out->set(k, val.isString() ? val.extract<std::string>() : "");
    std::ostringstream s;
    out->stringify(s);
    return s.str();
  } catch (const std::exception&) {
    return "";
  }
}
