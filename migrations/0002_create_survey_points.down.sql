DROP TABLE survey_points;
