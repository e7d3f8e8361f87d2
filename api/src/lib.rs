//! cameo's upload and results API: one router ([`routes`]) served as an AWS Lambda behind
//! an API Gateway HTTP API, or as a local HTTP server. It never carries video bytes: it
//! validates ([`validate`]), plans ([`plan`]) and presigns uploads ([`upload`]), records
//! them ([`record`]), lists them ([`library`]), has them analysed again ([`analyse`]), and
//! answers from S3 and the MovieEntities table ([`state`], [`result`], [`queries`], a page
//! at a time: [`pages`]); presigns the face crops of the results ([`faces`]), their
//! exports ([`exports`]) and the videos themselves ([`media`]); answers the curation
//! worker's suggestions for naming ([`suggestions`]); and erases a video with all that was
//! made of it ([`erase`]). It also serves the web app's files and its sign-in settings,
//! unauthenticated ([`webapp`]).

pub mod analyse;
pub mod app;
pub mod aws;
pub mod config;
pub mod curation;
pub mod erase;
pub mod error;
pub mod exports;
pub mod faces;
pub mod identity;
pub mod library;
pub mod media;
pub mod pages;
pub mod people;
pub mod photos;
pub mod plan;
pub mod queries;
pub mod record;
pub mod registry;
pub mod result;
pub mod routes;
pub mod state;
pub mod suggestions;
pub mod upload;
pub mod validate;
pub mod webapp;
