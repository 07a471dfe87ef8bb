//! Macros shared by the domains (declared first in `lib.rs`, so every module sees them).

/// Declares a closed list of values stored as text, with its French labels.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal / $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (and API) form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The French label.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Parses the stored form; `field` names the input in the error.
            pub fn parse(text: &str, field: &str) -> $crate::error::CoreResult<Self> {
                Self::from_code(text).ok_or_else(|| {
                    $crate::error::CoreError::Validation(vec![$crate::error::FieldError::new(
                        field,
                        format!(
                            "« {} » n'est pas une valeur permise ({})",
                            text.trim(),
                            [$($code),+].join(", ")
                        ),
                    )])
                })
            }

            /// The value whose stored form is `text`, if any.
            pub fn from_code(text: &str) -> Option<Self> {
                match text.trim() {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
