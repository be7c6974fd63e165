META
key;value
budget;10
vote_type;approval
PROJECTS
project_id;cost;name
a;5;Lamp
VOTES
voter_id;vote
1;a
