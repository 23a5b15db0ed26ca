//! One scenario's side of the suite: the cucumber World ([`world::XauthWorld`]), what it
//! remembers between steps ([`state::ScenarioState`], owned by the World: no process-global
//! tables), the typed step parameters ([`params`]) and the one bounded poll ([`poll`]).

pub mod params;
pub mod poll;
pub mod state;
pub mod world;
