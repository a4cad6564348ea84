-- One database and one login role per service; a role reaches only its own database.
-- Passwords here are for a local compose stack only; production takes them from secrets.
-- Written by `make compose` with docker-compose.yml.
CREATE ROLE registry LOGIN PASSWORD 'registry';
CREATE ROLE planning LOGIN PASSWORD 'planning';
CREATE ROLE sampling LOGIN PASSWORD 'sampling';
CREATE ROLE inspection LOGIN PASSWORD 'inspection';
CREATE ROLE disclosure LOGIN PASSWORD 'disclosure';
CREATE DATABASE registry OWNER registry;
CREATE DATABASE planning OWNER planning;
CREATE DATABASE sampling OWNER sampling;
CREATE DATABASE inspection OWNER inspection;
CREATE DATABASE disclosure OWNER disclosure;
REVOKE ALL ON DATABASE registry, planning, sampling, inspection, disclosure FROM PUBLIC;
