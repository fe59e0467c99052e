"""The built-in identity service through svc.identity, and a service acting with a user's token
(svc.for_token): Cinder's policy applied to that user's roles."""
import pytest

import cinder


@pytest.fixture
def identity(svc):
    svc.identity.bootstrap("admin-secret")
    return svc.identity


def role(identity, name):
    return next(r for r in identity.roles() if r["name"] == name)


def test_bootstrap_is_idempotent(svc, identity):
    assert [d["name"] for d in identity.domains()] == ["Default"]
    assert sorted(r["name"] for r in identity.roles()) == ["admin", "member", "reader"]
    (admin,) = identity.users(name="admin")
    identity.bootstrap("other")  # keeps the password
    token, info = identity.authenticate(user_name="admin", password="admin-secret", project_name="admin")
    assert info["user"]["id"] == admin["id"] and {"admin", "member", "reader"} <= {r["name"] for r in info["roles"]}
    with pytest.raises(cinder.NotAuthenticated):
        identity.authenticate(user_name="admin", password="other", project_name="admin")
    assert svc.for_token(token).identity.users(name="admin") == [admin]


def test_users_projects_roles_and_tokens(svc, identity):
    project = identity.create_project("demo", description="for alice", tags=["t"])
    assert project["domain_id"] == "default" and project["tags"] == ["t"] and project["enabled"]
    assert identity.get_project(project["id"]) == project
    with pytest.raises(cinder.Conflict):
        identity.create_project("demo")
    user = identity.create_user("alice", "s3cret", email="alice@example.com", default_project_id=project["id"])
    assert user["email"] == "alice@example.com" and user["default_project_id"] == project["id"]
    assert identity.users(name="alice") == [user] and identity.get_user(user["id"]) == user

    member = role(identity, "member")
    identity.grant(member["id"], user_id=user["id"], project_id=project["id"])
    assert identity.check_grant(member["id"], user_id=user["id"], project_id=project["id"])
    assert not identity.check_grant(role(identity, "admin")["id"], user_id=user["id"], project_id=project["id"])
    assert identity.role_assignments(user_id=user["id"]) == [
        {"role_id": member["id"], "user_id": user["id"], "group_id": None, "project_id": project["id"],
         "domain_id": None, "system": None}]
    effective = {a["role_id"] for a in identity.role_assignments(user_id=user["id"], effective=True)}
    assert effective == {member["id"], role(identity, "reader")["id"]}
    assert [p["name"] for p in identity.user_projects(user["id"])] == ["demo"]
    with pytest.raises(cinder.InvalidInput, match="one of user_id and group_id"):
        identity.grant(member["id"], project_id=project["id"])

    token, info = identity.authenticate(user_name="alice", password="s3cret", project_name="demo")
    assert info["project"]["id"] == project["id"] and sorted(r["name"] for r in info["roles"]) == ["member", "reader"]
    assert info["methods"] == ["password"]
    assert identity.validate_token(token)["user"]["name"] == "alice"
    rescoped, _ = identity.authenticate(token=token, project_id=project["id"])
    assert identity.validate_token(rescoped)["methods"] == ["token"]
    with pytest.raises(cinder.NotAuthenticated):
        identity.authenticate(user_name="alice", password="wrong", project_name="demo")
    with pytest.raises(cinder.NotAuthorized):
        identity.authenticate(user_name="alice", password="s3cret", project_name="admin")  # no role there

    # A service acting as alice: her project, Cinder's policy for a member.
    alice = svc.for_token(token)
    assert alice.project_id == project["id"] and alice.user_id == user["id"]
    vol = alice.create_volume(1, name="hers").wait(timeout=30)
    assert vol.project_id == project["id"]
    theirs = svc.create_volume(1, name="admins").wait(timeout=30)
    with pytest.raises(cinder.NotFound):
        alice.get_volume(theirs.id)
    with pytest.raises(cinder.NotAuthorized, match="Policy doesn't allow"):
        alice.set_quotas(volumes=1)
    with pytest.raises(cinder.NotAuthorized):
        alice.identity.create_user("mallory", "x")

    identity.revoke(member["id"], user_id=user["id"], project_id=project["id"])
    with pytest.raises(cinder.NotFound):
        identity.validate_token(token)  # the role carried by the token is gone
    identity.grant(member["id"], user_id=user["id"], project_id=project["id"])
    token, _ = identity.authenticate(user_name="alice", password="s3cret", project_name="demo")
    identity.revoke_token(token)
    with pytest.raises(cinder.NotFound):
        svc.for_token(token)

    assert identity.update_user(user["id"], enabled=False, email="a@example.org")["enabled"] is False
    with pytest.raises(cinder.NotAuthenticated):
        identity.authenticate(user_name="alice", password="s3cret", project_name="demo")
    identity.update_project(project["id"], description="renamed", name="demo2")
    assert identity.get_project(project["id"])["name"] == "demo2"
    extra = identity.create_role("auditor", description="reads")
    assert extra["name"] == "auditor" and identity.roles(name="auditor") == [extra]
    identity.delete_role(extra["id"])
    identity.delete_user(user["id"])
    with pytest.raises(cinder.NotFound):
        identity.get_user(user["id"])
    vol.delete().wait(timeout=30)
    identity.delete_project(project["id"])
    assert identity.projects(name="demo2") == []
