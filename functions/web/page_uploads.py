"""The form page's part in direct uploads (issue 14 §5, cloud): what static/direct_upload.js says.

The script holds no text: the page gives it these, in the campaign's language, as one JSON attribute on
the form (`data-upload-texts`), next to the URL it asks for presigned POSTs at (`data-direct-upload`).
Locally neither attribute is there and the script is not loaded: files go in the form's own post.
"""

from __future__ import annotations

from schemas.i18n import Language, t


def upload_texts(lang: Language) -> dict[str, str]:
    return {
        "asking": t(lang, "准备上传…", "Preparing…"),
        "uploading": t(lang, "上传中 {p}%", "Uploading {p}%"),
        "done": t(lang, "已上传，保存后生效", "Uploaded; kept when you save"),
        "failed": t(lang, "上传失败：", "Upload failed: "),
        "network": t(
            lang,
            "网络中断，文件未上传。请检查网络后重新选择该文件。",
            "The network failed and the file was not uploaded. Check the connection and choose it again.",
        ),
        "refused": t(
            lang,
            "存储服务拒收了该文件（可能超过大小限制或上传已过期），请重新选择。",
            "Storage refused the file (over the size limit, or the upload expired); choose it again.",
        ),
        "busy": t(
            lang, "还有文件正在上传，请等上传完成后再保存。", "Files are still uploading; wait, then save."
        ),
        "remove": t(lang, "移除", "Remove"),
    }
