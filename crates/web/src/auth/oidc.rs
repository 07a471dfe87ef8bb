//! Single sign-on with ProConnect (or any compatible OpenID Connect provider):
//! authorization code flow with PKCE (S256), `state` and `nonce` kept server-side and good
//! once, `acr_values=eidas1`, client authentication in the request body, an RS256 ID token
//! and a **signed** UserInfo response (`application/jwt`), as ProConnect does.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    UserInfoClaims,
};
use serde::{Deserialize, Serialize};

use crate::state::OidcSettings;

/// ProConnect's claims beyond the standard ones.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ProConnectClaims {
    pub usual_name: Option<String>,
    pub uid: Option<String>,
    pub siret: Option<String>,
}

impl AdditionalClaims for ProConnectClaims {}

/// The path the provider sends people back to.
pub const CALLBACK_PATH: &str = "/connexion/proconnect/retour";

/// The scopes ProConnect is asked for.
pub const SCOPES: &[&str] = &["email", "given_name", "usual_name", "uid", "siret"];

/// Why a sign-in with the provider failed, in words for the person.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("le fournisseur d'identité ne répond pas : {0}")]
    Provider(String),
    #[error("configuration OpenID Connect invalide : {0}")]
    Config(String),
    #[error("la réponse du fournisseur est refusée : {0}")]
    Rejected(String),
}

fn http_client() -> Result<reqwest::Client, OidcError> {
    reqwest::Client::builder()
        // Following redirects would open the client to server-side request forgery.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| OidcError::Config(e.to_string()))
}

async fn metadata(
    settings: &OidcSettings,
    http: &reqwest::Client,
) -> Result<CoreProviderMetadata, OidcError> {
    let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(|e| OidcError::Config(e.to_string()))?;
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| OidcError::Provider(e.to_string()))
}

/// What to remember while the person is at the provider.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Builds the authorization request.
pub async fn start(settings: &OidcSettings, public_url: &str) -> Result<Started, OidcError> {
    let http = http_client()?;
    let metadata = metadata(settings, &http).await?;
    let redirect = RedirectUrl::new(format!("{}{CALLBACK_PATH}", public_url.trim_end_matches('/')))
        .map_err(|e| OidcError::Config(e.to_string()))?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(settings.client_id.clone()),
        Some(ClientSecret::new(settings.client_secret.clone())),
    )
    .set_redirect_uri(redirect)
    .set_auth_type(AuthType::RequestBody);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .add_extra_param("acr_values", "eidas1");
    for scope in SCOPES {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let (url, state, nonce) = request.url();
    Ok(Started {
        url: url.to_string(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
    })
}

/// What the provider vouches for, once every check has passed.
pub struct Verified {
    pub subject: String,
    pub email: String,
    pub given_name: Option<String>,
    pub usual_name: Option<String>,
    pub uid: Option<String>,
    pub siret: Option<String>,
}

/// Exchanges the code (with the PKCE verifier), verifies the ID token (signature, issuer,
/// audience, expiry, nonce), then asks for the signed UserInfo of the same subject.
pub async fn finish(
    settings: &OidcSettings,
    public_url: &str,
    code: &str,
    nonce: &str,
    verifier: &str,
) -> Result<Verified, OidcError> {
    let http = http_client()?;
    let metadata = metadata(settings, &http).await?;
    let redirect = RedirectUrl::new(format!("{}{CALLBACK_PATH}", public_url.trim_end_matches('/')))
        .map_err(|e| OidcError::Config(e.to_string()))?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(settings.client_id.clone()),
        Some(ClientSecret::new(settings.client_secret.clone())),
    )
    .set_redirect_uri(redirect)
    .set_auth_type(AuthType::RequestBody);
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| OidcError::Config(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
        .request_async(&http)
        .await
        .map_err(|e| OidcError::Rejected(format!("échange du code refusé ({e})")))?;
    let id_token = token
        .id_token()
        .ok_or_else(|| OidcError::Rejected("pas de jeton d'identité".into()))?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
        .map_err(|e| {
            let text = e.to_string();
            if text.to_lowercase().contains("expir") {
                OidcError::Rejected(format!("jeton d'identité expiré ({text})"))
            } else {
                OidcError::Rejected(format!("jeton d'identité invalide ({text})"))
            }
        })?;
    let subject = claims.subject().clone();
    let info: UserInfoClaims<ProConnectClaims, CoreGenderClaim> = client
        .user_info(token.access_token().clone(), Some(subject.clone()))
        .map_err(|e| OidcError::Config(e.to_string()))?
        .require_signed_response(true)
        .request_async(&http)
        .await
        .map_err(|e| OidcError::Rejected(format!("informations d'identité refusées ({e})")))?;
    let email = info
        .email()
        .map(|e| e.as_str().to_owned())
        .ok_or_else(|| OidcError::Rejected("adresse électronique absente".into()))?;
    let given_name = info
        .given_name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_owned());
    let extra = info.additional_claims();
    Ok(Verified {
        subject: subject.as_str().to_owned(),
        email,
        given_name,
        usual_name: extra.usual_name.clone(),
        uid: extra.uid.clone(),
        siret: extra.siret.clone(),
    })
}
