"""Courts, the judges' contact directory, rooms, and staff sign-in."""

from __future__ import annotations


def test_courts_list_both_courts(client):
    items = client.get("/api/v1/courts").json["items"]
    assert {c["id"]: c["case_prefix"] for c in items} == {"luoyang": "豫03", "luohe": "豫11"}
    assert {c["name_zh"] for c in items} == {"洛阳市中级人民法院", "漯河市中级人民法院"}


def test_directory_filters_and_searches(client, make_staff):
    make_staff("luoyang", "judge", name="王建国", department="立案庭", phone="0379-61234567")
    make_staff("luohe", "judge", name="孙国庆", department="立案庭")
    make_staff("luohe", "clerk", name="郭佳怡", department="商事审判庭")
    make_staff("luohe", "judge", name="离职法官", active=False)

    everyone = client.get("/api/v1/directory").json["items"]
    assert {p["name"] for p in everyone} == {"王建国", "孙国庆", "郭佳怡"}
    assert set(everyone[0]) == {"id", "name", "role", "court", "department", "phone", "email"}

    luohe_judges = client.get("/api/v1/directory?court=luohe&role=judge").json["items"]
    assert [p["name"] for p in luohe_judges] == ["孙国庆"]
    filing = client.get("/api/v1/directory", query_string={"q": "立案"}).json["items"]
    assert {p["name"] for p in filing} == {"王建国", "孙国庆"}
    by_phone = client.get("/api/v1/directory?q=61234567").json["items"]
    assert [p["name"] for p in by_phone] == ["王建国"]
    # LIKE wildcards in the search are taken literally.
    assert client.get("/api/v1/directory?q=%25").json["items"] == []


def test_directory_rejects_unknown_role(client):
    response = client.get("/api/v1/directory?role=emperor")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_rooms_need_a_token(client, make_room, make_staff, auth):
    make_room("luoyang", "courtroom", "第一法庭")
    make_room("luohe", "mediation_room", "调解室")
    assert client.get("/api/v1/rooms").status_code == 401
    judge = make_staff()
    rooms = client.get("/api/v1/rooms?court=luohe", headers=auth(judge)).json["items"]
    assert [(r["court"], r["name"], r["kind"]) for r in rooms] == [
        ("luohe", "调解室", "mediation_room")
    ]


def test_token_for_good_credentials_only(client, make_staff):
    make_staff(username="luoyang-judge1")
    good = client.post(
        "/api/v1/auth/token", json={"username": "luoyang-judge1", "password": "secret-password"}
    )
    assert good.status_code == 200
    assert good.json["token_type"] == "Bearer"
    assert good.json["expires_in"] > 0
    for username, password in (("luoyang-judge1", "wrong"), ("nobody", "secret-password")):
        bad = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert bad.status_code == 401
        assert bad.mimetype == "application/problem+json"
        assert "WWW-Authenticate" in bad.headers


def test_inactive_staff_cannot_sign_in(client, make_staff):
    make_staff(username="gone", active=False)
    response = client.post(
        "/api/v1/auth/token", json={"username": "gone", "password": "secret-password"}
    )
    assert response.status_code == 401


def test_garbage_bearer_tokens_are_401(client):
    for header in ("Bearer", "Bearer abc.def.ghi", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000):
        response = client.get("/api/v1/sessions", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_login_page_signs_in_and_shows_the_desk(client, make_staff):
    make_staff(username="luohe-clerk9", court="luohe", role="clerk", name="郭佳怡")
    page = client.get("/login")
    assert page.status_code == 200 and "工作人员登录" in page.text
    refused = client.post("/login", data={"username": "luohe-clerk9", "password": "nope"})
    assert refused.status_code == 401 and "用户名或密码错误。" in refused.text
    signed_in = client.post(
        "/login",
        data={"username": "luohe-clerk9", "password": "secret-password"},
        follow_redirects=True,
    )
    assert signed_in.status_code == 200
    assert "郭佳怡" in signed_in.text
    assert signed_in.headers["Referrer-Policy"] == "no-referrer"


def test_desk_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
