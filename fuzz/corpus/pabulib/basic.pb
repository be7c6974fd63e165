META
key;value
description;Neighbourhood budget
num_projects;3
num_votes;4
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
park;60;Pocket park
bikes;50;Bike racks
lamps;30;Street lamps
VOTES
voter_id;vote
v1;park,lamps
v2;bikes
v3;park,bikes
v4;lamps
