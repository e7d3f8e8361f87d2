//! cameo's shared data model, imported (never copied) by the detector, the API and the
//! cluster components: the results document ([`results`]), the boxes in it
//! ([`geometry`]), the MovieEntities table's definition and items ([`table`]), the
//! metadata an upload carries ([`upload`]), and where its analysis stands ([`processing`]).

pub mod geometry;
pub mod processing;
pub mod results;
pub mod table;
pub mod upload;
