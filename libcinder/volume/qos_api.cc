#include "volume/qos_api.h"

#include "common/util.h"

namespace cinder {

namespace {

// Takes "consumer" out of `specs`; InvalidArgument for a value Cinder does not know.
Result<std::optional<std::string>> TakeConsumer(Metadata* specs) {
  auto it = specs->find("consumer");
  if (it == specs->end()) return std::optional<std::string>();
  std::string c = it->second;
  specs->erase(it);
  if (c != "front-end" && c != "back-end" && c != "both") {
    return InvalidArgument("Invalid qos specs: consumer must be one of front-end, back-end, both; not '" + c + "'.");
  }
  return std::optional<std::string>(c);
}

}  // namespace

Result<QosSpecs> QosApi::Create(const RequestContext& ctx, const std::string& name, Metadata specs) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "create"));
  if (Trim(name).empty()) return InvalidArgument("Invalid qos specs: name can not be empty.");
  CINDER_ASSIGN_OR_RETURN(auto consumer, TakeConsumer(&specs));
  QosSpecs q;
  q.id = NewUuid();
  q.name = Trim(name);
  q.consumer = consumer.value_or("back-end");
  q.specs = std::move(specs);
  q.created_at = NowIso();
  CINDER_RETURN_IF_ERROR(store_->CreateQosSpecs(q));
  return q;
}

Result<std::vector<QosSpecs>> QosApi::List(const RequestContext& ctx) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "get_all"));
  return store_->ListQosSpecs();
}

Result<QosSpecs> QosApi::Get(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "get"));
  return store_->GetQosSpecs(id);
}

Result<Metadata> QosApi::SetKeys(const RequestContext& ctx, const std::string& id, Metadata specs) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "update"));
  Metadata answer = specs;  // Cinder answers with what was sent, consumer included
  CINDER_ASSIGN_OR_RETURN(auto consumer, TakeConsumer(&specs));
  CINDER_RETURN_IF_ERROR(store_->SetQosSpecsKeys(id, specs, consumer));
  return answer;
}

Status QosApi::DeleteKeys(const RequestContext& ctx, const std::string& id, const std::vector<std::string>& keys) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "delete"));
  return store_->DeleteQosSpecsKeys(id, keys);
}

Status QosApi::Delete(const RequestContext& ctx, const std::string& id, bool force) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "delete"));
  return store_->DeleteQosSpecs(id, force);
}

Result<std::vector<std::pair<std::string, std::string>>> QosApi::Associations(const RequestContext& ctx,
                                                                              const std::string& id) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "get_all"));
  return store_->QosSpecsAssociations(id);
}

Status QosApi::Associate(const RequestContext& ctx, const std::string& id, const std::string& type_id) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "update"));
  return store_->AssociateQosSpecs(id, type_id);
}

Status QosApi::Disassociate(const RequestContext& ctx, const std::string& id,
                            const std::optional<std::string>& type_id) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "update"));
  return store_->DisassociateQosSpecs(id, type_id);
}

}  // namespace cinder
