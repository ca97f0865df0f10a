// unionmap:{type:name, ...} and pipemap:{type:name, ...}: tables made of
// other tables (dict_union and dict_pipe in the reference).
//  - unionmap asks every table and joins what they find with commas (an
//    empty answer adds nothing before the first comma); nothing found is
//    not found; an error of any table is the union's error.
//  - pipemap feeds the key to the first table, its answer to the second,
//    and so on; the last answer is the result; a table that finds nothing
//    ends the pipe with not found.
// Each element must be "type:name" ('bad syntax: "unionmap:<name>"; need
// "unionmap:{type:name...}"' otherwise, or for an empty list); the elements
// are opened with the union's own flags, their open errors are the union's.
// Read-only, no walks.
//
// Trust: the name comes from main.cf or the command line.
#pragma once
