//! cameo's shared data model, imported (never copied) by the detector, the API and the
//! cluster components: the results document ([`results`]), the boxes in it
//! ([`geometry`]), the MovieEntities table's definition and items ([`table`]), the
//! metadata an upload carries ([`upload`]), where its analysis stands ([`processing`]), and
//! the summary of a finished one ([`summary`]), the document in editors' formats
//! ([`exports`]), the face templates that let a face be named later ([`templates`]),
//! the people of the gallery with its manifest ([`people`]), the S3 event
//! notifications the queues deliver ([`s3_event`]), the index of unknown faces that
//! late binding scans ([`unknown_index`]), and the suggestions surveyed from it
//! ([`suggestions`]).

pub mod appearances;
pub mod curation;
pub mod exports;
pub mod geometry;
pub mod people;
pub mod processing;
pub mod results;
pub mod s3_event;
pub mod suggestions;
pub mod summary;
pub mod table;
pub mod templates;
pub mod unknown_index;
pub mod upload;
