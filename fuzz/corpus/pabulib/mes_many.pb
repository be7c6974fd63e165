META
key;value
budget;900
vote_type;approval
rule;equal-shares
PROJECTS
project_id;cost;name
p0;400;Project 0
p1;300;Project 1
p2;250;Project 2
p3;200;Project 3
p4;120;Project 4
p5;90;Project 5
p6;60;Project 6
VOTES
voter_id;vote
v0;p1,p3
v1;p0,p4,p6
v2;p2
v3;p0,p1,p4
v4;p0
v5;p0,p3
v6;p0
v7;p0,p3,p4
v8;p1
v9;p0,p4,p5
v10;p0,p3,p4
v11;p0
v12;p1,p2,p6
v13;p1,p4
v14;p4
v15;p4,p5
v16;p0
v17;p1,p4,p5
v18;p0,p4
v19;p0,p4,p6
v20;p1,p3,p4
v21;p2,p6
v22;p3,p4
v23;p1,p2
v24;p5
v25;p0
v26;p2,p3,p4
v27;p3,p5
v28;p0,p4
v29;p4
v30;p1,p2
v31;p3
v32;p0,p5
v33;p6
v34;p2,p4,p5
v35;p2,p3,p4
v36;p0,p3,p6
v37;p2
v38;p5,p6
v39;p0
