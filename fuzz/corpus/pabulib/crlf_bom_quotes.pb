meta
key;value
budget;50
vote_type;approval
num_votes;3
PROJECTS
project_id;cost
 a ; 20 
"b";30
c;5

Votes
voter_id;vote;assembly
x;a,b;one
y;"c";two
z;b;one
