create table t(id integer primary key, name text, v real, tag text);
with recursive c(x) as (select 1 union all select x+1 from c where x < 3000) insert into t select x, printf('name-%d-%s', x, hex(randomblob(x % 40))), x * 0.5, printf('tag%d', x % 37) from c;
create index t_tag on t(tag);
select tag, count(*), avg(v), max(length(name)) from t group by tag order by 2 desc limit 5;
update t set name = name || '-updated' where id % 3 = 0;
delete from t where id % 5 = 0;
select count(*), sum(length(name)) from t;
