//! The newsletter's vocabulary as types: parsed at the edge, trusted inside.
//!
//! Layer: the bottom. It imports nothing of the crate (only libraries); everything above
//! may import it. A rule about what a subscriber, campaign or address is belongs here, not
//! in the store or a handler.

mod campaign;
mod colour;
mod email;
pub mod engagement;
mod language;
mod name;
mod slug;
mod subscriber;
mod traces;

pub use campaign::{
    AudienceError, BodyFormat, CampaignStatus, DeliveryState, audience_label, audience_sentence,
    audience_tiers,
};
pub use colour::{AA_TEXT, Colour, Palette};
pub use email::{EmailError, SubscriberEmail};
pub use engagement::{
    CopySignals, Engagement, EngagementModel, Figures, Standing, Tier, TierBounds, ago,
};
pub use language::{Language, LanguageError};
pub use name::{NameError, SubscriberName};
pub use slug::{MAX_SLUG_CHARS, is_slug, nth_slug, slug_of};
pub use subscriber::{
    ConsentRecord, SignupSource, Subscriber, SubscriberStatus, UnsubscribeMethod,
};
pub use traces::{ERASED, Traces};
