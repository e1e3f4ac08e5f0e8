"""The External validation page's upload box, whose own texts Streamlit cannot translate, has a line
above it in the user's language with the server's real upload limit, which the box enforces too."""

from __future__ import annotations

from tests.pages.conftest import open_page, trained_app


def test_the_validation_upload_box_is_explained_in_korean_with_the_servers_limit(app_env, datasets_dir,
                                                                                  tmp_path_factory):
    trained_app(app_env, datasets_dir, tmp_path_factory)
    (app_env / "workbench.toml").write_text("max_upload_mb = 40\n", encoding="utf-8")
    at = open_page("validate.py", lang="ko")
    assert any("파일당 최대 40MB" in c.value for c in at.caption), [c.value for c in at.caption]
    assert [u.proto.max_upload_size_mb for u in at.file_uploader] == [40]
