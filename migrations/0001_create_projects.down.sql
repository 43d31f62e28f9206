-- message: drop projects
DROP TABLE projects;
DROP TYPE project_status;
