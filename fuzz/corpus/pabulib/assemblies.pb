META
key;value
description;Regional round
budget;1000.0
vote_type;approval
assemblies;north:1.5,south,east:0
PROJECTS
project_id;cost;name;proposer;votes
bridge;700;Foot bridge;north;3
school;400;"School roof; urgent";south;2
trees;150;Trees;;1
VOTES
voter_id;vote;assembly;age
1;bridge,trees;north;34
2;school;south;61
3;bridge;north;
4;;east;19
5;school,bridge;south;40
