// QosApi: QoS specs and their association with volume types, as cinder/volume/qos_specs.py and
// the qos-specs API controller check them (Cinder's volume_extension:qos_specs_manage:* rules,
// admin_api by default). The VolumeManager forwards to it.
#ifndef CINDER_VOLUME_QOS_API_H_
#define CINDER_VOLUME_QOS_API_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/policy.h"
#include "cinder/context.h"
#include "cinder/volume.h"
#include "db/store.h"

namespace cinder {

class QosApi {
 public:
  QosApi(Store* store, const auth::Policy* policy) : store_(store), policy_(policy) {}

  // `specs` may hold "consumer" (front-end, back-end or both); the rest are the QoS keys.
  Result<QosSpecs> Create(const RequestContext& ctx, const std::string& name, Metadata specs);
  Result<std::vector<QosSpecs>> List(const RequestContext& ctx);
  Result<QosSpecs> Get(const RequestContext& ctx, const std::string& id);
  Result<Metadata> SetKeys(const RequestContext& ctx, const std::string& id, Metadata specs);
  Status DeleteKeys(const RequestContext& ctx, const std::string& id, const std::vector<std::string>& keys);
  Status Delete(const RequestContext& ctx, const std::string& id, bool force);
  Result<std::vector<std::pair<std::string, std::string>>> Associations(const RequestContext& ctx,
                                                                        const std::string& id);
  Status Associate(const RequestContext& ctx, const std::string& id, const std::string& type_id);
  // Without a type: from every type.
  Status Disassociate(const RequestContext& ctx, const std::string& id, const std::optional<std::string>& type_id);

 private:
  // volume_extension:qos_specs_manage:<what>
  Status Authorize(const RequestContext& ctx, const std::string& what) const {
    return policy_->Enforce(ctx, "volume_extension:qos_specs_manage:" + what, {});
  }

  Store* store_;
  const auth::Policy* policy_;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_QOS_API_H_
