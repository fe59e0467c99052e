// Policy: oslo.policy's rule language over Cinder's (and Keystone's identity) rules and their
// defaults, overridden by a policy file. The only code that decides "may this context do that".
#ifndef CINDER_AUTH_POLICY_H_
#define CINDER_AUTH_POLICY_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "cinder/context.h"
#include "cinder/options.h"
#include "cinder/status.h"

namespace cinder::auth {

// A resource's fields as the rules see them (%(project_id)s, ...).
using PolicyTarget = std::map<std::string, std::string>;

class Policy {
 public:
  // The defaults of every rule, overridden by the policy file named by options.auth.policy_file
  // (relative: beside the configuration file options.origin) when it exists. InvalidArgument,
  // naming the file and the rule, for a file that does not parse.
  static Result<std::shared_ptr<Policy>> Open(const Options& options);
  virtual ~Policy() = default;

  // OK, or PermissionDenied "Policy doesn't allow <rule> to be performed.". `target` gets the
  // caller's project_id and user_id for what it lacks. An unknown rule is denied (and logged).
  virtual Status Enforce(const RequestContext& ctx, std::string_view rule, const PolicyTarget& target) const = 0;
  virtual bool Allowed(const RequestContext& ctx, std::string_view rule, const PolicyTarget& target) const = 0;
};

}  // namespace cinder::auth

#endif  // CINDER_AUTH_POLICY_H_
