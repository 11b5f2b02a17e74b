//! Azure OpenAI / Azure AI Foundry: where the OpenAI-shaped endpoints live on an Azure resource and
//! how the credential is sent.
//!
//! * Chat completions are per deployment, versioned by query:
//!   `POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}`
//!   (<https://learn.microsoft.com/azure/ai-services/openai/reference>,
//!   <https://learn.microsoft.com/training/modules/build-language-solution-azure-openai/3-use-openai-rest>).
//! * The Responses API is on the v1 surface, `POST {endpoint}/openai/v1/responses`, with the
//!   deployment name as `model`; the earlier preview is `POST {endpoint}/openai/responses?api-version=…`
//!   (<https://learn.microsoft.com/azure/ai-services/openai/how-to/responses>,
//!   <https://learn.microsoft.com/azure/ai-services/openai/quickstart>).
//! * A resource key goes in an `api-key` header; a Microsoft Entra ID token in
//!   `Authorization: Bearer`.

use muster_model::agent::{AzureAuth, AzureTarget};

/// The chat completions path for a deployment. `None` without a deployment or `api-version`
/// (`muster validate` reports both as errors).
pub(crate) fn chat_path(azure: &AzureTarget) -> Option<String> {
    let deployment = azure.deployment.as_deref()?;
    let version = azure.api_version.as_deref()?;
    Some(format!(
        "/openai/deployments/{deployment}/chat/completions?api-version={version}"
    ))
}

/// The Responses path: the v1 API unless a (preview) `api-version` is named.
pub(crate) fn responses_path(azure: &AzureTarget) -> String {
    match azure.api_version.as_deref() {
        None | Some("v1") => "/openai/v1/responses".to_owned(),
        Some(version) => format!("/openai/responses?api-version={version}"),
    }
}

/// The header carrying `secret`, replacing the manifest's `auth.header`/`auth.scheme`.
pub(crate) fn auth_header(azure: &AzureTarget, secret: &str) -> (String, String) {
    match azure.auth {
        AzureAuth::ApiKey => ("api-key".to_owned(), secret.to_owned()),
        AzureAuth::Bearer => ("Authorization".to_owned(), format!("Bearer {secret}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn azure(deployment: Option<&str>, version: Option<&str>, auth: AzureAuth) -> AzureTarget {
        AzureTarget {
            deployment: deployment.map(str::to_owned),
            api_version: version.map(str::to_owned),
            auth,
        }
    }

    #[test]
    fn paths_follow_the_documented_shapes() {
        let a = azure(
            Some("gpt-4o-support"),
            Some("2024-10-21"),
            AzureAuth::ApiKey,
        );
        assert_eq!(
            chat_path(&a).as_deref(),
            Some("/openai/deployments/gpt-4o-support/chat/completions?api-version=2024-10-21")
        );
        assert_eq!(
            responses_path(&a),
            "/openai/responses?api-version=2024-10-21"
        );
        let v1 = azure(None, None, AzureAuth::ApiKey);
        assert_eq!(chat_path(&v1), None);
        assert_eq!(responses_path(&v1), "/openai/v1/responses");
        assert_eq!(
            responses_path(&azure(None, Some("v1"), AzureAuth::ApiKey)),
            "/openai/v1/responses"
        );
    }

    #[test]
    fn the_secret_goes_in_api_key_or_a_bearer_token() {
        assert_eq!(
            auth_header(&azure(None, None, AzureAuth::ApiKey), "k1"),
            ("api-key".to_owned(), "k1".to_owned())
        );
        assert_eq!(
            auth_header(&azure(None, None, AzureAuth::Bearer), "t1"),
            ("Authorization".to_owned(), "Bearer t1".to_owned())
        );
    }
}
